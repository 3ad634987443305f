import type { FastifyInstance } from 'fastify';
import { ApiError, commonFilters, invalid, item, notFound, paginate } from '../apiHttp';
import type { SandboxContext } from '../context';
import { autoBill } from '../gateway';
import {
  archiveInvoice,
  cancelInvoice,
  createInvoice,
  deleteInvoice,
  emailInvoice,
  markSent,
  restoreInvoice,
  updateInvoice,
} from '../invoices';
import { INVOICE_STATUS, type InvoiceRow } from '../model';
import { invoicePdf } from '../portal/invoicePdf';
import { includesOf, invoiceOut } from '../transform';
import { parseBody } from '../validation';
import { bulkSchema } from './clients';

// /api/v1/invoices: list filters (InvoiceFilters), CRUD with triggered actions, single and bulk actions, and the
// PDF download by invitation key. Bulk calls and deletes carry Invoice Ninja's one-second duplicate guards.

const CLIENT_STATUS: Record<string, (i: InvoiceRow) => boolean> = {
  draft: (i) => i.status_id === INVOICE_STATUS.DRAFT,
  paid: (i) => i.status_id === INVOICE_STATUS.PAID,
  unpaid: (i) => i.status_id === INVOICE_STATUS.SENT || i.status_id === INVOICE_STATUS.PARTIAL,
  overdue: (i) =>
    (i.status_id === INVOICE_STATUS.SENT || i.status_id === INVOICE_STATUS.PARTIAL) && !!i.due_date && i.due_date < new Date().toISOString().slice(0, 10),
  cancelled: (i) => i.status_id === INVOICE_STATUS.CANCELLED,
};

const BULK_ACTIONS = ['mark_sent', 'email', 'send_email', 'cancel', 'auto_bill', 'archive', 'restore', 'delete'];

export function registerInvoiceRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const base = () => ctx.publicUrl();
  const find = (id: string) => {
    const inv = ctx.store.invoice(id);
    if (!inv) throw notFound('Invoice');
    return inv;
  };

  const perform = (inv: InvoiceRow, action: string) => {
    switch (action) {
      case 'mark_sent':
        return markSent(ctx, inv);
      case 'email':
      case 'send_email':
        return emailInvoice(ctx, inv);
      case 'cancel':
        return void cancelInvoice(ctx, inv);
      case 'auto_bill':
        return void autoBill(ctx, inv);
      case 'archive':
        return archiveInvoice(ctx, inv);
      case 'restore':
        return restoreInvoice(ctx, inv);
      case 'delete':
        return deleteInvoice(ctx, inv);
      default:
        throw new ApiError(400, 'Action unavailable for this invoice');
    }
  };

  app.get('/api/v1/invoices', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    // Every filter and the sort make new arrays: the client's lookup is read, never changed.
    let rows: readonly InvoiceRow[] = q.client_id ? ctx.store.invoicesOf(q.client_id) : ctx.store.invoices();
    if (q.number) rows = rows.filter((i) => i.number === q.number);
    if (q.status_id) {
      const ids = new Set(q.status_id.split(',').map(Number));
      rows = rows.filter((i) => ids.has(i.status_id));
    }
    if (q.client_status) {
      const wanted = q.client_status.split(',');
      if (!wanted.includes('all')) rows = rows.filter((i) => wanted.some((w) => CLIENT_STATUS[w]?.(i)));
    }
    if (q.payable) {
      rows = rows.filter(
        (i) => i.client_id === q.payable && !i.is_deleted && i.status_id <= INVOICE_STATUS.PARTIAL && i.balance > 0,
      );
    }
    if (q.filter) {
      const f = q.filter.toLowerCase();
      rows = rows.filter((i) =>
        [i.number, i.text.po_number, i.date, i.text.custom_value1, i.text.custom_value2, i.text.custom_value3, i.text.custom_value4,
          ...i.line_items.flatMap((l) => [l.text.product_key, l.text.notes])]
          .some((v) => v.toLowerCase().includes(f)),
      );
    }
    const includes = includesOf(req.query);
    return paginate(req, commonFilters(req, rows), (i) => invoiceOut(ctx.store, i, base(), includes), base());
  });

  app.post('/api/v1/invoices', async (req) =>
    item(invoiceOut(ctx.store, createInvoice(ctx, req.body, req.query as Record<string, unknown>), base(), includesOf(req.query))),
  );
  app.get<{ Params: { id: string } }>('/api/v1/invoices/:id', async (req) =>
    item(invoiceOut(ctx.store, find(req.params.id), base(), includesOf(req.query))),
  );
  app.put<{ Params: { id: string } }>('/api/v1/invoices/:id', async (req) =>
    item(invoiceOut(ctx.store, updateInvoice(ctx, find(req.params.id), req.body, req.query as Record<string, unknown>), base(), includesOf(req.query))),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/invoices/:id', async (req) => {
    const inv = find(req.params.id);
    ctx.guard(`invoice-delete|${inv.id}`);
    deleteInvoice(ctx, inv);
    return item(invoiceOut(ctx.store, inv, base()));
  });

  app.post('/api/v1/invoices/bulk', async (req) => {
    const body = parseBody(bulkSchema, req.body);
    ctx.guard(`invoice-bulk|${req.ip}|${body.action}`);
    if (!BULK_ACTIONS.includes(body.action)) throw invalid({ action: ['The selected action is invalid.'] });
    const rows = body.ids.map((id) => ctx.store.invoice(id)).filter((i): i is InvoiceRow => !!i);
    for (const inv of rows) perform(inv, body.action);
    return { data: rows.map((i) => invoiceOut(ctx.store, i, base())) };
  });

  app.get<{ Params: { id: string; action: string } }>('/api/v1/invoices/:id/:action', async (req, reply) => {
    const inv = find(req.params.id);
    if (req.params.action === 'download') {
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="invoice-${inv.number}.pdf"`).send(invoicePdf(ctx.store, inv));
    }
    perform(inv, req.params.action);
    return item(invoiceOut(ctx.store, inv, base()));
  });

  app.get<{ Params: { key: string } }>('/api/v1/invoice/:key/download', async (req, reply) => {
    const found = ctx.store.invitation(req.params.key);
    if (!found) throw notFound('Invoice');
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="invoice-${found.invoice.number}.pdf"`)
      .send(invoicePdf(ctx.store, found.invoice));
  });
}

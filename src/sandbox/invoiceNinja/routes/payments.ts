import type { FastifyInstance } from 'fastify';
import { commonFilters, item, notFound, paginate } from '../apiHttp';
import type { SandboxContext } from '../context';
import { formatDecimal } from '../../../domain/money';
import { PAYMENT_STATUS, type PaymentRow } from '../model';
import { bulkPayments, createApiPayment, deletePayment, refundPayment, updateApiPayment } from '../payments';
import { includesOf, paymentOut } from '../transform';
import { parseBody } from '../validation';
import { bulkSchema } from './clients';

// /api/v1/payments: list (PaymentFilters: client_status is the payment-status filter, `status` is
// active/archived/deleted), CRUD, refund and bulk.

const CLIENT_STATUS: Record<string, (p: PaymentRow) => boolean> = {
  pending: (p) => p.status_id === PAYMENT_STATUS.PENDING,
  cancelled: (p) => p.status_id === PAYMENT_STATUS.CANCELLED,
  failed: (p) => p.status_id === PAYMENT_STATUS.FAILED,
  completed: (p) => p.status_id === PAYMENT_STATUS.COMPLETED,
  partially_refunded: (p) => p.status_id === PAYMENT_STATUS.PARTIALLY_REFUNDED,
  refunded: (p) => p.status_id === PAYMENT_STATUS.REFUNDED,
  partially_unapplied: (p) => p.amount > p.applied && p.refunded === 0,
};

export function registerPaymentRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const base = () => ctx.publicUrl();
  const find = (id: string) => {
    const p = ctx.store.payment(id);
    if (!p) throw notFound('Payment');
    return p;
  };

  app.get('/api/v1/payments', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    let rows = ctx.store.payments();
    if (q.client_id) rows = rows.filter((p) => p.client_id === q.client_id);
    if (q.number) rows = rows.filter((p) => p.number === q.number);
    if (q.client_status) {
      const wanted = q.client_status.split(',');
      if (!wanted.includes('all')) rows = rows.filter((p) => wanted.some((w) => CLIENT_STATUS[w]?.(p)));
    }
    if (q.filter) {
      const f = q.filter.toLowerCase();
      rows = rows.filter((p) => {
        const client = ctx.store.client(p.client_id);
        const amount = client ? formatDecimal(p.amount, ctx.store.currencyOf(client)) : '';
        return [amount, p.date, p.number, p.transaction_reference, ...p.custom_values, client?.text.name ?? '']
          .some((v) => v.toLowerCase().includes(f));
      });
    }
    const includes = includesOf(req.query);
    return paginate(req, commonFilters(req, rows), (p) => paymentOut(ctx.store, p, base(), includes), base());
  });

  app.post('/api/v1/payments', async (req) => item(paymentOut(ctx.store, createApiPayment(ctx, req.body, req.ip), base(), includesOf(req.query))));
  app.get<{ Params: { id: string } }>('/api/v1/payments/:id', async (req) =>
    item(paymentOut(ctx.store, find(req.params.id), base(), includesOf(req.query))),
  );
  app.put<{ Params: { id: string } }>('/api/v1/payments/:id', async (req) =>
    item(paymentOut(ctx.store, updateApiPayment(ctx, find(req.params.id), req.body), base(), includesOf(req.query))),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/payments/:id', async (req) =>
    item(paymentOut(ctx.store, deletePayment(ctx, find(req.params.id)), base(), includesOf(req.query))),
  );
  app.post('/api/v1/payments/refund', async (req) => item(paymentOut(ctx.store, refundPayment(ctx, req.body), base(), includesOf(req.query))));
  app.post('/api/v1/payments/bulk', async (req) => {
    const body = parseBody(bulkSchema, req.body);
    return { data: bulkPayments(ctx, body.action, body.ids).map((p) => paymentOut(ctx.store, p, base())) };
  });
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import { truthy } from '../apiHttp';
import type { SandboxContext } from '../context';
import { dec, display, toText } from '../decimal';
import { recordView } from '../invoices';
import { INVOICE_STATUS } from '../model';
import { esc, money, page, statusBadge } from './html';
import { invoicePdf, STATUS_LABEL } from './invoicePdf';

// GET /client/invoice/{key}: the invoice as the customer sees it (number, dates, total, balance, lines), with print,
// PDF download and "Pay now". The first visit without ?silent=true sets the invitation's viewed_date and touches
// the invoice's updated_at — the only trace a view leaves, since Invoice Ninja has no view webhook.

export function notFoundPage(reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .type('text/html; charset=utf-8')
    .send(page('Link not found', `<div class="card"><h1>This link is not valid</h1><p class="muted">The invoice link may have been mistyped or withdrawn. Please contact us for a new one.</p></div>`));
}

export function registerInvoicePage(app: FastifyInstance, ctx: SandboxContext): void {
  // The sandbox's front door (the real portal asks a contact to log in here): the newest invoices with their view and pay
  // links, so the stack's banner has a page to open. A sandbox convenience; the customer's way in is their own link.
  app.get('/client', async (_req, reply) => {
    const rows = ctx.store
      .invoices()
      .filter((inv) => !inv.is_deleted && inv.invitations.length > 0)
      .slice(-50)
      .reverse()
      .map((inv) => {
        const client = ctx.store.client(inv.client_id);
        const key = encodeURIComponent(inv.invitations[0]!.key);
        const status = STATUS_LABEL[inv.status_id] ?? String(inv.status_id);
        return `<tr><td>${esc(inv.number)}</td><td>${esc(client ? client.text.name || client.number : '')}</td><td>${statusBadge(status)}</td>
<td class="num">${client ? esc(money(inv.balance, ctx.store.currencyOf(client))) : ''}</td><td><a href="/client/invoice/${key}?silent=true">view</a> · <a href="/client/pay/${key}">pay</a></td></tr>`;
      })
      .join('');
    const body = `<div class="card"><h1>Sandbox client portal</h1><p class="muted">The newest invoices and their links (viewing from here is silent).</p>
<table><thead><tr><th>Invoice</th><th>Client</th><th>Status</th><th class="num">Balance</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="5" class="muted">No invoices yet.</td></tr>'}</tbody></table></div>`;
    return reply.type('text/html; charset=utf-8').send(page('Sandbox client portal', body));
  });

  app.get<{ Params: { key: string }; Querystring: { silent?: string } }>('/client/invoice/:key', async (req, reply) => {
    const found = ctx.store.invitation(req.params.key);
    if (!found) return notFoundPage(reply);
    const { invoice: inv, invitationIndex } = found;
    if (!truthy(req.query.silent)) recordView(ctx, inv, invitationIndex);
    const client = ctx.store.client(inv.client_id)!;
    const currency = ctx.store.currencyOf(client);
    const m = (minor: number) => money(minor, currency);
    const key = encodeURIComponent(req.params.key);
    const payable = !inv.is_deleted && (inv.status_id === INVOICE_STATUS.SENT || inv.status_id === INVOICE_STATUS.PARTIAL) && inv.balance > 0;

    const rows = inv.line_items
      .map(
        (l) => `<tr><td>${esc(l.text.product_key)}</td><td>${esc(l.text.notes)}</td><td class="num">${esc(toText(dec(l.num.quantity)))}</td>
<td class="num">${esc(display(l.num.cost))}</td><td class="num">${esc(display(l.tax_amount))}</td><td class="num">${esc(display(l.line_total))}</td></tr>`,
      )
      .join('');
    const notice = inv.is_deleted
      ? '<div class="error">This invoice has been withdrawn.</div>'
      : inv.status_id === INVOICE_STATUS.CANCELLED
        ? '<div class="error">This invoice has been cancelled.</div>'
        : inv.status_id === INVOICE_STATUS.PAID
          ? '<div class="success">This invoice is paid in full. Thank you!</div>'
          : '';

    const body = `${notice}
<div class="card">
  <h1>Invoice ${esc(inv.number)} ${statusBadge(STATUS_LABEL[inv.status_id])}</h1>
  <div class="muted">Billed to ${esc(client.text.name || client.number)}${inv.text.po_number ? ` · PO ${esc(inv.text.po_number)}` : ''}</div>
  <div class="grid">
    <div class="stat"><span class="muted">Invoice date</span><b>${esc(inv.date)}</b></div>
    <div class="stat"><span class="muted">Due date</span><b id="due-date">${esc(inv.due_date || 'On receipt')}</b></div>
    <div class="stat"><span class="muted">Invoice total</span><b id="invoice-total">${m(inv.amount)}</b></div>
    <div class="stat"><span class="muted">Balance due</span><b id="balance-due">${m(inv.balance)}</b></div>
  </div>
  <div class="actions">
    ${payable ? `<a class="btn primary" id="pay-now" href="/client/pay/${key}">Pay now</a>` : ''}
    <button class="btn" type="button" onclick="window.print()">Print</button>
    <a class="btn" id="download-pdf" href="/client/invoice/${key}/download">Download PDF</a>
  </div>
</div>
<div class="card">
  <h2>Details</h2>
  <table><thead><tr><th>Item</th><th>Description</th><th class="num">Qty</th><th class="num">Unit price</th><th class="num">Tax</th><th class="num">Line total</th></tr></thead>
  <tbody>${rows}</tbody>
  <tfoot>
    <tr><td colspan="5" class="num">Taxes</td><td class="num">${esc(display(inv.total_taxes))}</td></tr>
    <tr><td colspan="5" class="num">Total</td><td class="num">${m(inv.amount)}</td></tr>
    <tr><td colspan="5" class="num">Paid to date</td><td class="num">${m(inv.paid_to_date)}</td></tr>
    <tr><td colspan="5" class="num">Balance due</td><td class="num">${m(inv.balance)}</td></tr>
  </tfoot></table>
  ${inv.text.public_notes ? `<p class="muted">${esc(inv.text.public_notes)}</p>` : ''}
  ${inv.text.terms ? `<p class="muted">${esc(inv.text.terms)}</p>` : ''}
</div>`;
    return reply.type('text/html; charset=utf-8').send(page(`Invoice ${inv.number}`, body));
  });

  app.get<{ Params: { key: string } }>('/client/invoice/:key/download', async (req, reply) => {
    const found = ctx.store.invitation(req.params.key);
    if (!found) return notFoundPage(reply);
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="invoice-${found.invoice.number}.pdf"`)
      .send(invoicePdf(ctx.store, found.invoice));
  });
}

import { z } from 'zod';
import { formatDecimal } from '../../domain/money';
import { ApiError, DELETED_RECORD, invalid, truthy } from './apiHttp';
import { calculateInvoice } from './calc';
import type { SandboxContext } from './context';
import { dec, toMinor, toText } from './decimal';
import {
  type ClientRow,
  EVENT,
  INVOICE_STATUS,
  INVOICE_TEXT_FIELDS,
  type InvitationRow,
  type InvoiceRow,
  LINE_NUMBER_FIELDS,
  LINE_TEXT_FIELDS,
  type LineRow,
} from './model';
import { nowDateTime, nowSeconds, randomKey, today } from './store';
import { bool, decimal, hashedId, parseBody, text, ymd } from './validation';

// Invoices (contract §3): the server computes every total; status ids 1-6; `?mark_sent` / `?send_email` triggered
// actions; bulk actions; one invitation per emailed contact with the portal link.

const lineSchema = z
  .object({
    ...Object.fromEntries(LINE_TEXT_FIELDS.map((f) => [f, text])),
    ...Object.fromEntries(LINE_NUMBER_FIELDS.map((f) => [f, decimal])),
    is_amount_discount: bool,
    type_id: text,
  })
  .loose();

const invoiceSchema = z
  .object({
    client_id: hashedId.optional(),
    number: text,
    date: ymd,
    due_date: ymd,
    partial_due_date: ymd,
    partial: decimal,
    discount: decimal,
    is_amount_discount: bool,
    uses_inclusive_taxes: bool,
    auto_bill_enabled: bool,
    tax_rate1: decimal,
    tax_rate2: decimal,
    tax_rate3: decimal,
    ...Object.fromEntries(INVOICE_TEXT_FIELDS.map((f) => [f, text])),
    line_items: z.array(lineSchema).optional(),
    invitations: z.array(z.object({ client_contact_id: z.string(), key: z.string().optional() }).loose()).optional(),
  })
  .loose();

type InvoiceBody = z.infer<typeof invoiceSchema>;
type LineBody = z.infer<typeof lineSchema>;

const FEE_TYPES = new Set(['3', '4']);

function toLine(input: LineBody): LineRow {
  const rec = input as Record<string, unknown>;
  return {
    text: Object.fromEntries(LINE_TEXT_FIELDS.map((f) => [f, typeof rec[f] === 'string' ? rec[f] : ''])) as LineRow['text'],
    num: Object.fromEntries(
      LINE_NUMBER_FIELDS.map((f) => [f, typeof rec[f] === 'string' && rec[f] !== '' ? rec[f] : f === 'quantity' ? '1' : '0']),
    ) as LineRow['num'],
    is_amount_discount: input.is_amount_discount ?? false,
    type_id: input.type_id || '1',
    line_total: '0',
    gross_line_total: '0',
    tax_amount: '0',
  };
}

/** Recomputes lines and totals; the balance follows the amount for every non-draft, non-cancelled invoice. */
export function recalc(ctx: SandboxContext, inv: InvoiceRow): void {
  const client = ctx.store.client(inv.client_id)!;
  for (const l of inv.line_items) l.is_amount_discount = inv.is_amount_discount;
  const result = calculateInvoice(
    {
      line_items: inv.line_items.map((l) => ({ ...l.text, ...l.num })),
      discount: inv.discount,
      is_amount_discount: inv.is_amount_discount,
      tax_name1: inv.text.tax_name1,
      tax_rate1: inv.tax_rate1,
      tax_name2: inv.text.tax_name2,
      tax_rate2: inv.tax_rate2,
      tax_name3: inv.text.tax_name3,
      tax_rate3: inv.tax_rate3,
    },
    ctx.store.precisionOf(client),
    ctx.taxArithmetic,
  );
  inv.line_items.forEach((l, i) => {
    l.line_total = toText(result.lines[i].line_total);
    l.tax_amount = toText(result.lines[i].tax_amount);
    l.gross_line_total = toText(result.lines[i].gross_line_total);
  });
  inv.total_taxes = toText(result.totalTaxes);
  inv.amount = result.amountMinor;
  if (inv.status_id !== INVOICE_STATUS.DRAFT && inv.status_id !== INVOICE_STATUS.CANCELLED) {
    inv.balance = inv.amount - inv.paid_to_date;
  }
  inv.partial = Math.max(0, Math.min(inv.partial, inv.amount));
  refreshStatus(inv);
}

/** Sent / partial / paid from balance and paid_to_date; drafts and cancelled invoices keep their status. */
export function refreshStatus(inv: InvoiceRow): void {
  if (inv.status_id === INVOICE_STATUS.DRAFT || inv.status_id === INVOICE_STATUS.CANCELLED || inv.status_id === INVOICE_STATUS.REVERSED) return;
  if (inv.paid_to_date === 0) inv.status_id = INVOICE_STATUS.SENT;
  else if (inv.balance <= 0) inv.status_id = INVOICE_STATUS.PAID;
  else inv.status_id = INVOICE_STATUS.PARTIAL;
}

function partialMinor(ctx: SandboxContext, client: ClientRow, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return toMinor(dec(value || '0'), ctx.store.precisionOf(client));
}

function assertNumberFree(ctx: SandboxContext, number: string | undefined, selfId?: string) {
  if (!number) return;
  const holder = ctx.store.invoiceNumbered(number);
  if (holder && holder.id !== selfId) {
    throw invalid({ number: ['The number has already been taken.'] });
  }
}

function applyFields(ctx: SandboxContext, inv: InvoiceRow, client: ClientRow, body: InvoiceBody) {
  const rec = body as Record<string, unknown>;
  for (const f of INVOICE_TEXT_FIELDS) if (typeof rec[f] === 'string') inv.text[f] = rec[f] as string;
  if (body.number) ctx.store.setInvoiceNumber(inv, body.number);
  if (body.date) inv.date = body.date;
  if (body.due_date !== undefined) inv.due_date = body.due_date;
  if (body.partial_due_date !== undefined) inv.partial_due_date = body.partial_due_date;
  if (body.discount !== undefined) inv.discount = body.discount || '0';
  if (body.is_amount_discount !== undefined) inv.is_amount_discount = body.is_amount_discount;
  if (body.auto_bill_enabled !== undefined) inv.auto_bill_enabled = body.auto_bill_enabled;
  for (const f of ['tax_rate1', 'tax_rate2', 'tax_rate3'] as const) if (body[f] !== undefined) inv[f] = body[f] || '0';
  const partial = partialMinor(ctx, client, body.partial);
  if (partial !== undefined) inv.partial = partial;
  if (body.line_items) {
    // CleanLineItems::cleanFeeItems: gateway-fee lines (types 3 and 4) are the portal's own; callers cannot send them.
    inv.line_items = body.line_items.map(toLine).filter((l) => !FEE_TYPES.has(l.type_id));
  }
  if (body.invitations) {
    const keep = new Set(body.invitations.map((i) => i.key).filter(Boolean));
    inv.invitations = inv.invitations.filter((i) => keep.has(i.key));
    for (const wanted of body.invitations) {
      if (wanted.key && inv.invitations.some((i) => i.key === wanted.key)) continue;
      if (!client.contacts.some((c) => c.id === wanted.client_contact_id)) {
        throw invalid({ 'invitations.client_contact_id': ['The selected contact is invalid.'] });
      }
      inv.invitations.push(newInvitation(ctx, wanted.client_contact_id));
    }
  }
}

function newInvitation(ctx: SandboxContext, contactId: string): InvitationRow {
  const now = nowSeconds();
  return {
    id: ctx.store.nextId('invitation'),
    key: randomKey(32),
    client_contact_id: contactId,
    sent_date: '',
    viewed_date: '',
    opened_date: '',
    email_status: '',
    created_at: now,
    updated_at: now,
    archived_at: 0,
  };
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function createInvoice(ctx: SandboxContext, raw: unknown, query: Record<string, unknown>): InvoiceRow {
  const body = parseBody(invoiceSchema, raw);
  if (!body.client_id) throw invalid({ client_id: ['The client id field is required.'] });
  const client = ctx.store.client(body.client_id);
  if (!client || client.is_deleted) throw invalid({ client_id: ['The selected client id is invalid.'] });
  if (body.uses_inclusive_taxes) throw invalid({ uses_inclusive_taxes: ['Inclusive taxes are not supported by this sandbox.'] });
  assertNumberFree(ctx, body.number);
  const now = nowSeconds();
  const inv: InvoiceRow = {
    id: ctx.store.nextId('invoice'),
    client_id: client.id,
    number: '',
    status_id: INVOICE_STATUS.DRAFT,
    date: today(),
    due_date: '',
    partial_due_date: '',
    text: Object.fromEntries(INVOICE_TEXT_FIELDS.map((f) => [f, ''])) as InvoiceRow['text'],
    tax_rate1: '0',
    tax_rate2: '0',
    tax_rate3: '0',
    discount: '0',
    // Invoice Ninja's InvoiceFactory makes new invoices amount-discount: a line discount not said to be a percentage
    // is an amount.
    is_amount_discount: true,
    uses_inclusive_taxes: false,
    auto_bill_enabled: false,
    partial: 0,
    amount: 0,
    balance: 0,
    paid_to_date: 0,
    total_taxes: '0',
    line_items: [],
    invitations: [],
    last_sent_date: '',
    is_deleted: false,
    archived_at: 0,
    created_at: now,
    updated_at: now,
  };
  applyFields(ctx, inv, client, body);
  const terms = Number(client.settings.payment_terms);
  if (body.due_date === undefined && Number.isInteger(terms) && terms >= 0) inv.due_date = addDays(inv.date, terms);
  if (!inv.number) ctx.store.setInvoiceNumber(inv, ctx.store.nextNumber('invoice', (n) => ctx.store.invoiceNumbered(n) !== undefined));
  if (!body.invitations) {
    for (const contact of client.contacts.filter((c) => c.send_email)) inv.invitations.push(newInvitation(ctx, contact.id));
  }
  recalc(ctx, inv);
  ctx.store.addInvoice(inv);
  ctx.store.touch();
  ctx.hooks.fire(EVENT.CREATE_INVOICE, 'invoice', inv.id);
  triggeredActions(ctx, inv, query);
  return inv;
}

export function updateInvoice(ctx: SandboxContext, inv: InvoiceRow, raw: unknown, query: Record<string, unknown>): InvoiceRow {
  if (inv.is_deleted) throw new ApiError(400, DELETED_RECORD);
  const body = parseBody(invoiceSchema, raw);
  if (body.client_id !== undefined && body.client_id !== inv.client_id) {
    throw invalid({ client_id: ['The selected client id is invalid.'] });
  }
  if (body.uses_inclusive_taxes) throw invalid({ uses_inclusive_taxes: ['Inclusive taxes are not supported by this sandbox.'] });
  assertNumberFree(ctx, body.number, inv.id);
  const client = ctx.store.client(inv.client_id)!;
  applyFields(ctx, inv, client, body);
  recalc(ctx, inv);
  inv.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_INVOICE, 'invoice', inv.id);
  triggeredActions(ctx, inv, query);
  return inv;
}

/** TriggeredActions: ?mark_sent=true and ?send_email=true on create/update. */
function triggeredActions(ctx: SandboxContext, inv: InvoiceRow, query: Record<string, unknown>) {
  if (truthy(query.send_email)) emailInvoice(ctx, inv);
  else if (truthy(query.mark_sent)) markSent(ctx, inv);
}

export function markSent(ctx: SandboxContext, inv: InvoiceRow, quiet = false): void {
  if (inv.status_id !== INVOICE_STATUS.DRAFT) return;
  inv.status_id = INVOICE_STATUS.SENT;
  inv.balance = inv.amount - inv.paid_to_date;
  inv.last_sent_date = today();
  const stamp = nowDateTime();
  for (const i of inv.invitations) if (!i.sent_date) i.sent_date = stamp;
  inv.updated_at = nowSeconds();
  ctx.store.touch();
  if (quiet) return;
  ctx.hooks.fire(EVENT.UPDATE_INVOICE, 'invoice', inv.id);
  ctx.hooks.fire(EVENT.SENT_INVOICE, 'invoice', inv.id);
}

/** Emails every invitation whose contact has an address; recorded in the outbox instead of being sent. */
export function emailInvoice(ctx: SandboxContext, inv: InvoiceRow): void {
  markSent(ctx, inv);
  const client = ctx.store.client(inv.client_id)!;
  const currency = ctx.store.currencyOf(client);
  const stamp = nowDateTime();
  for (const invitation of inv.invitations) {
    const contact = client.contacts.find((c) => c.id === invitation.client_contact_id);
    if (!contact?.text.email) continue;
    const base = ctx.publicUrl();
    ctx.store.state.outbox.push({
      id: ctx.store.nextId('email'),
      at: stamp,
      kind: 'invoice',
      to: contact.text.email,
      subject: `Invoice ${inv.number} from Sandbox Company`,
      body:
        `Dear ${contact.text.first_name || client.text.name},\n\nInvoice ${inv.number} for ${formatDecimal(inv.balance, currency)} ${currency} ` +
        `is due ${inv.due_date || 'on receipt'}.\nView: ${base}/client/invoice/${invitation.key}\nPay now: ${base}/client/pay/${invitation.key}\n`,
      entity_id: inv.id,
      invitation_key: invitation.key,
    });
    invitation.sent_date = stamp;
    invitation.email_status = 'delivered';
  }
  inv.last_sent_date = today();
  inv.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.SENT_INVOICE, 'invoice', inv.id);
}

/** HandleCancellation: only sent or partial invoices; the balance is kept aside and zeroed. */
export function cancelInvoice(ctx: SandboxContext, inv: InvoiceRow): boolean {
  if (inv.is_deleted || (inv.status_id !== INVOICE_STATUS.SENT && inv.status_id !== INVOICE_STATUS.PARTIAL)) return false;
  inv.cancelled_balance = inv.balance;
  inv.balance = 0;
  inv.status_id = INVOICE_STATUS.CANCELLED;
  inv.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_INVOICE, 'invoice', inv.id);
  return true;
}

/** MarkInvoiceDeleted: payments applied to the invoice become unapplied money again. */
export function deleteInvoice(ctx: SandboxContext, inv: InvoiceRow): void {
  if (inv.is_deleted) return;
  for (const p of ctx.store.payments()) {
    for (const pb of p.paymentables) {
      if (pb.invoice_id !== inv.id) continue;
      const net = pb.amount - pb.refunded;
      p.applied -= net;
      pb.amount = pb.refunded;
      pb.updated_at = nowSeconds();
      p.updated_at = nowSeconds();
    }
  }
  inv.is_deleted = true;
  inv.archived_at = nowSeconds();
  inv.updated_at = inv.archived_at;
  ctx.store.touch();
  ctx.hooks.fire(EVENT.DELETE_INVOICE, 'invoice', inv.id);
}

export function archiveInvoice(ctx: SandboxContext, inv: InvoiceRow): void {
  if (inv.is_deleted || inv.archived_at) return;
  inv.archived_at = nowSeconds();
  inv.updated_at = inv.archived_at;
  ctx.store.touch();
  ctx.hooks.fire(EVENT.ARCHIVE_INVOICE, 'invoice', inv.id);
}

export function restoreInvoice(ctx: SandboxContext, inv: InvoiceRow): void {
  if (!inv.is_deleted && !inv.archived_at) return;
  inv.archived_at = 0;
  inv.is_deleted = false;
  inv.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.RESTORE_INVOICE, 'invoice', inv.id);
}

/** Portal view: the first non-silent visit sets viewed_date and touches the invoice (no webhook fires). */
export function recordView(ctx: SandboxContext, inv: InvoiceRow, invitationIndex: number): void {
  const invitation = inv.invitations[invitationIndex];
  const stamp = nowDateTime();
  if (!invitation.viewed_date) invitation.viewed_date = stamp;
  if (!invitation.opened_date) invitation.opened_date = stamp;
  invitation.updated_at = nowSeconds();
  inv.updated_at = invitation.updated_at;
  ctx.store.touch();
}

/** Invoices a client can pay in the portal: sent or partial, not deleted, with a balance. */
export function payableInvoices(ctx: SandboxContext, clientId: string): InvoiceRow[] {
  return ctx.store
    .invoices()
    .filter(
      (i) =>
        i.client_id === clientId &&
        !i.is_deleted &&
        (i.status_id === INVOICE_STATUS.SENT || i.status_id === INVOICE_STATUS.PARTIAL) &&
        i.balance > 0,
    )
    .sort((a, b) => (a.due_date || a.date).localeCompare(b.due_date || b.date) || a.number.localeCompare(b.number));
}

import { z } from 'zod';
import { formatDecimal } from '../../domain/money';
import { ApiError, DELETED_RECORD, invalid } from './apiHttp';
import type { SandboxContext } from './context';
import { dec, toMinor } from './decimal';
import { markSent, recalc, refreshStatus } from './invoices';
import { type ClientRow, EVENT, INVOICE_STATUS, type InvoiceRow, PAYMENT_STATUS, type PaymentRow } from './model';
import { nowDateTime, nowSeconds, today } from './store';
import { bool, decimal, hashedId, parseBody, text, ymd } from './validation';

// Payments (contract §4): application to invoices (balances, paid_to_date, status 3/4), the unapplied remainder,
// the idempotency key (unique per company → 422 on replay), the 1-second duplicate guard (400 "Duplicate
// request"), refunds, negative payments and deletion (status 2, balances restored).

const allocationSchema = z.object({ invoice_id: hashedId, amount: decimal }).loose();

const createSchema = z
  .object({
    client_id: hashedId.optional(),
    amount: decimal,
    date: ymd,
    type_id: text,
    transaction_reference: text,
    private_notes: text,
    number: text,
    idempotency_key: z.string().max(64, 'may not be greater than 64 characters').optional(),
    invoices: z.array(allocationSchema).optional(),
    credits: z.array(z.unknown()).max(0, 'credits are not supported by this sandbox').optional(),
    email_receipt: bool,
    custom_value1: text,
    custom_value2: text,
    custom_value3: text,
    custom_value4: text,
  })
  .loose();

const updateSchema = createSchema.omit({ amount: true, idempotency_key: true });

const refundSchema = z
  .object({
    id: hashedId,
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'The date field is required.'),
    amount: decimal,
    invoices: z.array(allocationSchema).optional(),
    gateway_refund: bool,
    send_email: bool,
  })
  .loose();

/** StorePaymentRequest::prepareForValidation: the same ip|amount|client_id twice within a second is refused. */
function guardDuplicate(ctx: SandboxContext, ip: string, raw: unknown) {
  const body = (raw ?? {}) as Record<string, unknown>;
  ctx.guard(`payment|${ip}|${String(body.amount ?? '')}|${String(body.client_id ?? '')}`);
}

const minorOf = (value: string | undefined, precision: number) => toMinor(dec(value || '0'), precision);

interface Allocation {
  invoice: InvoiceRow;
  amount: number;
}

/** ValidInvoicesRules: distinct, the client's, not deleted, payable, and no more than the balance (draft: amount). */
function validateAllocations(ctx: SandboxContext, client: ClientRow, rows: z.infer<typeof allocationSchema>[]): Allocation[] {
  const precision = ctx.store.precisionOf(client);
  const seen = new Set<string>();
  return rows.map((row, i) => {
    if (seen.has(row.invoice_id)) throw invalid({ invoices: ['Duplicate invoices are not allowed.'] });
    seen.add(row.invoice_id);
    const invoice = ctx.store.invoice(row.invoice_id);
    if (!invoice || invoice.client_id !== client.id || invoice.is_deleted) {
      throw invalid({ [`invoices.${i}.invoice_id`]: ['The selected invoice is invalid or does not belong to this client.'] });
    }
    const payable =
      (invoice.status_id === INVOICE_STATUS.DRAFT || invoice.status_id === INVOICE_STATUS.SENT || invoice.status_id === INVOICE_STATUS.PARTIAL) &&
      invoice.balance >= 0;
    if (!payable) throw invalid({ [`invoices.${i}.invoice_id`]: [`Invoice ${invoice.number} is not payable.`] });
    const amount = minorOf(row.amount, precision);
    if (amount <= 0) throw invalid({ [`invoices.${i}.amount`]: ['The amount must be greater than zero.'] });
    const limit = invoice.status_id === INVOICE_STATUS.DRAFT ? invoice.amount : invoice.balance;
    if (amount > limit) throw invalid({ [`invoices.${i}.amount`]: [`Amount cannot be greater than the balance of invoice ${invoice.number}.`] });
    return { invoice, amount };
  });
}

/** Applies money to invoices (UpdateInvoicePayment): drafts are marked sent, balances drop, statuses follow. */
export function applyToInvoices(ctx: SandboxContext, payment: PaymentRow, allocations: Allocation[]): void {
  const now = nowSeconds();
  for (const { invoice, amount } of allocations) {
    markSent(ctx, invoice, true);
    invoice.balance -= amount;
    invoice.paid_to_date += amount;
    refreshStatus(invoice);
    invoice.updated_at = now;
    const existing = payment.paymentables.find((pb) => pb.invoice_id === invoice.id);
    if (existing) {
      existing.amount += amount;
      existing.updated_at = now;
    } else {
      payment.paymentables.push({ id: ctx.store.nextId('paymentable'), invoice_id: invoice.id, amount, refunded: 0, created_at: now, updated_at: now });
    }
    payment.applied += amount;
  }
}

/** Gives every invoice back what this payment still holds on it (delete, failed gateway payment). */
export function reverseApplications(ctx: SandboxContext, payment: PaymentRow): void {
  const now = nowSeconds();
  for (const pb of payment.paymentables) {
    const invoice = ctx.store.invoice(pb.invoice_id);
    const net = pb.amount - pb.refunded;
    if (!invoice || net === 0) continue;
    invoice.balance += net;
    invoice.paid_to_date -= net;
    if (invoice.status_id !== INVOICE_STATUS.CANCELLED) refreshStatus(invoice);
    invoice.updated_at = now;
  }
}

function receipt(ctx: SandboxContext, payment: PaymentRow, client: ClientRow): void {
  const contact = client.contacts.find((c) => c.id === payment.client_contact_id) ?? client.contacts.find((c) => c.is_primary);
  if (!contact?.text.email) return;
  const currency = ctx.store.currencyOf(client);
  const numbers = payment.paymentables.map((pb) => ctx.store.invoice(pb.invoice_id)?.number).filter(Boolean);
  ctx.store.state.outbox.push({
    id: ctx.store.nextId('email'),
    at: nowDateTime(),
    kind: 'payment_receipt',
    to: contact.text.email,
    subject: `Payment ${payment.number} received`,
    body: `Thank you for your payment of ${formatDecimal(payment.amount, currency)} ${currency}${numbers.length ? ` for invoice(s) ${numbers.join(', ')}` : ''}.\n`,
    entity_id: payment.id,
  });
}

export function newPayment(ctx: SandboxContext, client: ClientRow, fields: Partial<PaymentRow>): PaymentRow {
  const now = nowSeconds();
  return {
    id: ctx.store.nextId('payment'),
    client_id: client.id,
    client_contact_id: '',
    invitation_id: '',
    number: ctx.store.nextNumber('payment', (n) => ctx.store.payments().some((p) => p.number === n)),
    amount: 0,
    applied: 0,
    refunded: 0,
    status_id: PAYMENT_STATUS.COMPLETED,
    type_id: '',
    gateway_type_id: '',
    company_gateway_id: '',
    transaction_reference: '',
    is_manual: true,
    date: today(),
    private_notes: '',
    custom_values: ['', '', '', ''],
    currency_id: ctx.store.currencyIdOf(client),
    paymentables: [],
    is_deleted: false,
    archived_at: 0,
    created_at: now,
    updated_at: now,
    ...fields,
  };
}

/** Sends the receipt when asked to, or — when the caller did not say — per client_manual_payment_notification. */
export function maybeReceipt(ctx: SandboxContext, payment: PaymentRow, client: ClientRow, emailReceipt: boolean | undefined, setting: string) {
  const send = emailReceipt ?? client.settings[setting] !== false;
  if (send) receipt(ctx, payment, client);
}

export function createApiPayment(ctx: SandboxContext, raw: unknown, ip: string): PaymentRow {
  guardDuplicate(ctx, ip, raw);
  const body = parseBody(createSchema, raw);
  if (!body.client_id) throw invalid({ client_id: ['The client id field is required.'] });
  const client = ctx.store.client(body.client_id);
  if (!client || client.is_deleted) throw invalid({ client_id: ['The selected client id is invalid.'] });
  if (body.idempotency_key && ctx.store.state.idempotency[body.idempotency_key]) {
    throw invalid({ idempotency_key: ['The idempotency key has already been taken.'] });
  }
  if (body.number && ctx.store.payments().some((p) => p.number === body.number)) {
    throw invalid({ number: ['The number has already been taken.'] });
  }
  const allocations = validateAllocations(ctx, client, body.invoices ?? []);
  const applied = allocations.reduce((s, a) => s + a.amount, 0);
  let amount = minorOf(body.amount, ctx.store.precisionOf(client));
  if (amount === 0) amount = applied;
  if (allocations.length > 0 && amount < applied) throw invalid({ amount: ['Amount must be greater than or equal to the sum of the invoices.'] });

  const payment = newPayment(ctx, client, {
    amount,
    date: body.date || today(),
    type_id: body.type_id ?? '',
    transaction_reference: body.transaction_reference ?? '',
    private_notes: body.private_notes ?? '',
    custom_values: [body.custom_value1 ?? '', body.custom_value2 ?? '', body.custom_value3 ?? '', body.custom_value4 ?? ''],
  });
  if (body.number) payment.number = body.number;
  applyToInvoices(ctx, payment, allocations);
  ctx.store.addPayment(payment);
  if (body.idempotency_key) ctx.store.state.idempotency[body.idempotency_key] = payment.id;
  maybeReceipt(ctx, payment, client, body.email_receipt, 'client_manual_payment_notification');
  ctx.store.touch();
  ctx.hooks.fire(EVENT.CREATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/** PUT /payments/{id}: amount is ignored; invoices[] applies unapplied money; references can change. */
export function updateApiPayment(ctx: SandboxContext, payment: PaymentRow, raw: unknown): PaymentRow {
  if (payment.is_deleted) throw new ApiError(400, DELETED_RECORD);
  const body = parseBody(updateSchema, raw);
  if (body.client_id !== undefined && body.client_id !== payment.client_id) throw invalid({ client_id: ['The selected client id is invalid.'] });
  const client = ctx.store.client(payment.client_id)!;
  const rows = body.invoices ?? [];
  rows.forEach((r, i) => {
    if (dec(r.amount || '0').n < 0n) throw invalid({ [`invoices.${i}.amount`]: ['Negative amounts cannot be applied.'] });
  });
  const allocations = validateAllocations(ctx, client, rows);
  const add = allocations.reduce((s, a) => s + a.amount, 0);
  if (add > payment.amount - payment.applied - payment.refunded) throw invalid({ invoices: ['Insufficient unapplied amount remaining to cover payment.'] });
  if (body.transaction_reference !== undefined) payment.transaction_reference = body.transaction_reference;
  if (body.private_notes !== undefined) payment.private_notes = body.private_notes;
  if (body.type_id !== undefined) payment.type_id = body.type_id;
  if (body.date) payment.date = body.date;
  if (body.number) payment.number = body.number;
  applyToInvoices(ctx, payment, allocations);
  payment.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/** POST /payments/refund (RefundPayment): with invoices the refund reopens them and turns auto-bill off. */
export function refundPayment(ctx: SandboxContext, raw: unknown): PaymentRow {
  const body = parseBody(refundSchema, raw);
  const payment = ctx.store.payment(body.id);
  if (!payment) throw invalid({ id: ['The selected id is invalid.'] });
  if (payment.is_deleted) throw invalid({ id: ['Payment is deleted.'] });
  if (payment.status_id !== PAYMENT_STATUS.COMPLETED && payment.status_id !== PAYMENT_STATUS.PARTIALLY_REFUNDED) {
    throw invalid({ id: ['Only completed payments can be refunded.'] });
  }
  const client = ctx.store.client(payment.client_id)!;
  const precision = ctx.store.precisionOf(client);
  const rows = body.invoices ?? [];
  const refunds = rows.map((r, i) => {
    const pb = payment.paymentables.find((p) => p.invoice_id === r.invoice_id);
    const amount = minorOf(r.amount, precision);
    if (!pb) throw invalid({ [`invoices.${i}.invoice_id`]: ['The invoice is not linked to this payment.'] });
    if (amount <= 0 || amount > pb.amount - pb.refunded) throw invalid({ [`invoices.${i}.amount`]: ['Attempting to refund more than is refundable for this invoice.'] });
    return { pb, amount };
  });
  const total = rows.length > 0 ? refunds.reduce((s, r) => s + r.amount, 0) : minorOf(body.amount, precision);
  if (total <= 0) throw invalid({ amount: ['The amount must be greater than zero.'] });
  if (total > payment.amount - payment.refunded) throw invalid({ amount: ['Attempting to refund more than payment amount, enter a value less than or equal to the payment amount.'] });
  const now = nowSeconds();
  for (const { pb, amount } of refunds) {
    pb.refunded += amount;
    pb.updated_at = now;
    const invoice = ctx.store.invoice(pb.invoice_id);
    if (!invoice) continue;
    invoice.balance += amount;
    invoice.paid_to_date -= amount;
    invoice.auto_bill_enabled = false;
    refreshStatus(invoice);
    invoice.updated_at = now;
  }
  payment.refunded += total;
  payment.status_id = payment.refunded >= payment.amount ? PAYMENT_STATUS.REFUNDED : PAYMENT_STATUS.PARTIALLY_REFUNDED;
  payment.updated_at = now;
  if (body.send_email) receipt(ctx, payment, client);
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/**
 * DeletePayment: voided (status 2), flagged deleted, invoice balances restored, and its links to the invoices deleted
 * (deletePaymentables): read again, a deleted payment has no paymentables and no invoices, and the invoices no longer
 * list it among their payments.
 */
export function deletePayment(ctx: SandboxContext, payment: PaymentRow): PaymentRow {
  if (payment.is_deleted) return payment;
  if (payment.status_id !== PAYMENT_STATUS.FAILED) reverseApplications(ctx, payment);
  payment.paymentables = [];
  payment.status_id = PAYMENT_STATUS.CANCELLED;
  payment.is_deleted = true;
  payment.settle_at = undefined;
  payment.archived_at = nowSeconds();
  payment.updated_at = payment.archived_at;
  ctx.store.touch();
  ctx.hooks.fire(EVENT.DELETE_PAYMENT, 'payment', payment.id);
  return payment;
}

export function bulkPayments(ctx: SandboxContext, action: string, ids: string[]): PaymentRow[] {
  if (!['archive', 'restore', 'delete'].includes(action)) throw invalid({ action: ['The selected action is invalid.'] });
  const rows = ids.map((id) => ctx.store.payment(id)).filter((p): p is PaymentRow => !!p);
  const now = nowSeconds();
  for (const p of rows) {
    if (action === 'delete') deletePayment(ctx, p);
    else if (action === 'archive' && !p.is_deleted && !p.archived_at) {
      p.archived_at = now;
      p.updated_at = now;
      ctx.hooks.fire(EVENT.ARCHIVE_PAYMENT, 'payment', p.id);
    } else if (action === 'restore' && !p.is_deleted && p.archived_at) {
      p.archived_at = 0;
      p.updated_at = now;
      ctx.hooks.fire(EVENT.RESTORE_PAYMENT, 'payment', p.id);
    }
  }
  ctx.store.touch();
  return rows;
}

/** Removes the gateway-fee line a failed portal payment added, so the invoice total is what it was. */
export function removeFeeLine(ctx: SandboxContext, payment: PaymentRow): void {
  if (!payment.fee) return;
  const invoice = ctx.store.invoice(payment.fee.invoice_id);
  if (!invoice) return;
  invoice.line_items = invoice.line_items.filter((l) => l.fee_payment_id !== payment.id);
  recalc(ctx, invoice);
}

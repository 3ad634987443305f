import { formatDecimal } from '../../domain/money';
import { ApiError } from './apiHttp';
import type { FeeRule, SandboxContext } from './context';
import { dec, percentOf, toMinor } from './decimal';
import { payableInvoices, recalc } from './invoices';
import { EVENT, type InvoiceRow, PAYMENT_STATUS, type PaymentRow } from './model';
import { applyToInvoices, maybeReceipt, newPayment, removeFeeLine, reverseApplications } from './payments';
import { nowSeconds, randomKey } from './store';

// The test gateway behind the pay page (contract §4 "Gateway (client-portal) payments"): a card charge completes at
// once (status 4); a bank debit (ACH) is applied to the invoices immediately but stays pending (status 1) until it
// settles or fails. The convenience fee for the chosen method is added to the first invoice as a paid gateway-fee
// line (type_id "4") and included in the payment amount; a failed payment takes its fee line away again.

export type PayMethod = 'card' | 'bank';

export interface PortalPayment {
  invitationKey: string;
  /** Invoice id → amount in minor units. */
  allocations: Array<{ invoiceId: string; amountMinor: number }>;
  method: PayMethod;
  card?: { number: string; expiry: string; cvc: string; name: string };
  bank?: { routing: string; account: string; name: string };
  saveCard?: boolean;
}

/** Stripe's test card that is always declined. */
export const DECLINED_CARD = '4000000000000002';

const GATEWAY_ID = 'VolejRejNm';

export function feeFor(rule: FeeRule, amountMinor: number, precision: number): number {
  if (amountMinor <= 0) return 0;
  const percent = toMinor(percentOf({ n: BigInt(amountMinor), s: precision }, dec(rule.percent)), precision);
  return percent + rule.fixedMinor;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Payment type from the card brand (BaseDriver parseCardType): 5 Visa, 6 Mastercard, 7 Amex, 8 Discover, 12 other. */
function cardType(number: string): string {
  if (number.startsWith('4')) return '5';
  if (/^(5[1-5]|2[2-7])/.test(number)) return '6';
  if (/^3[47]/.test(number)) return '7';
  if (/^6(011|5)/.test(number)) return '8';
  return '12';
}

/** A customer's error: shown on the pay page, nothing is charged. */
export class PaymentDeclined extends Error {}

function checkPaymentDetails(req: PortalPayment): { cardNumber?: string } {
  if (req.method === 'card') {
    const number = (req.card?.number ?? '').replace(/[\s-]/g, '');
    if (!/^\d{13,19}$/.test(number) || !luhn(number)) throw new PaymentDeclined('The card number is not valid.');
    if (!/^(0[1-9]|1[0-2])\s*\/\s*\d{2}$/.test(req.card?.expiry ?? '')) throw new PaymentDeclined('Enter the expiry date as MM/YY.');
    if (!/^\d{3,4}$/.test(req.card?.cvc ?? '')) throw new PaymentDeclined('Enter the 3 or 4 digit security code.');
    if (number === DECLINED_CARD) throw new PaymentDeclined('Your card was declined.');
    return { cardNumber: number };
  }
  if (!/^\d{9}$/.test(req.bank?.routing ?? '')) throw new PaymentDeclined('The routing number must have 9 digits.');
  if (!/^\d{4,17}$/.test(req.bank?.account ?? '')) throw new PaymentDeclined('The account number must have 4 to 17 digits.');
  if (!(req.bank?.name ?? '').trim()) throw new PaymentDeclined('Enter the account holder name.');
  return {};
}

/** Checks the customer's selection against what is payable now; returns the invoices in the page's order. */
export function resolveAllocations(ctx: SandboxContext, clientId: string, allocations: PortalPayment['allocations']) {
  if (allocations.length === 0) throw new PaymentDeclined('Select at least one invoice to pay.');
  const payable = payableInvoices(ctx, clientId);
  return allocations.map(({ invoiceId, amountMinor }) => {
    const invoice = payable.find((i) => i.id === invoiceId);
    if (!invoice) throw new PaymentDeclined('One of the selected invoices can no longer be paid.');
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new PaymentDeclined(`Enter an amount above zero for invoice ${invoice.number}.`);
    if (amountMinor > invoice.balance) throw new PaymentDeclined(`The amount for invoice ${invoice.number} is more than its balance.`);
    return { invoice, amount: amountMinor };
  });
}

export function payInPortal(ctx: SandboxContext, req: PortalPayment): PaymentRow {
  const found = ctx.store.invitation(req.invitationKey);
  if (!found) throw new ApiError(404, 'Invitation not found');
  const client = ctx.store.client(found.invoice.client_id)!;
  const allocations = resolveAllocations(ctx, client.id, req.allocations);
  const { cardNumber } = checkPaymentDetails(req);
  const precision = ctx.store.precisionOf(client);
  const subtotal = allocations.reduce((s, a) => s + a.amount, 0);
  const fee = feeFor(ctx.fees[req.method], subtotal, precision);
  const invitation = found.invoice.invitations[found.invitationIndex];
  const pending = req.method === 'bank';

  const payment = newPayment(ctx, client, {
    amount: subtotal + fee,
    status_id: pending ? PAYMENT_STATUS.PENDING : PAYMENT_STATUS.COMPLETED,
    is_manual: false,
    gateway_type_id: pending ? '2' : '1',
    type_id: pending ? '4' : cardType(cardNumber!),
    company_gateway_id: GATEWAY_ID,
    transaction_reference: `${pending ? 'py' : 'ch'}_${randomKey(24)}`,
    client_contact_id: invitation.client_contact_id,
    invitation_id: invitation.id,
  });
  if (fee > 0) {
    addFeeLine(ctx, allocations[0].invoice, payment, fee, req.method);
    allocations[0] = { invoice: allocations[0].invoice, amount: allocations[0].amount + fee };
    payment.fee = { invoice_id: allocations[0].invoice.id, amount: fee };
  }
  applyToInvoices(ctx, payment, allocations);
  if (pending && ctx.pendingSettleMs !== undefined) payment.settle_at = Date.now() + ctx.pendingSettleMs;
  ctx.store.addPayment(payment);
  if (req.saveCard && cardNumber) {
    client.gateway_tokens.push({
      id: ctx.store.nextId('token'),
      token: `pm_${randomKey(24)}`,
      last4: cardNumber.slice(-4),
      gateway_type_id: '1',
      created_at: nowSeconds(),
    });
  }
  maybeReceipt(ctx, payment, client, undefined, 'client_online_payment_notification');
  ctx.store.touch();
  if (payment.settle_at !== undefined) ctx.schedulePending(payment.id);
  ctx.hooks.fire(EVENT.CREATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/** BaseDriver::confirmGatewayFee: the fee is a paid gateway-fee line on the invoice, raising amount and balance. */
function addFeeLine(ctx: SandboxContext, invoice: InvoiceRow, payment: PaymentRow, fee: number, method: PayMethod) {
  const client = ctx.store.client(invoice.client_id)!;
  const costText = formatDecimal(fee, ctx.store.currencyOf(client));
  invoice.line_items.push({
    text: {
      product_key: 'Gateway Fee',
      notes: method === 'card' ? 'Card processing fee' : 'Bank transfer (ACH) fee',
      tax_name1: '', tax_name2: '', tax_name3: '', tax_id: '',
      custom_value1: '', custom_value2: '', custom_value3: '', custom_value4: '',
      date: '', unit_code: '',
    },
    num: { quantity: '1', cost: costText, product_cost: '0', discount: '0', tax_rate1: '0', tax_rate2: '0', tax_rate3: '0' },
    is_amount_discount: invoice.is_amount_discount,
    type_id: '4',
    line_total: '0',
    gross_line_total: '0',
    tax_amount: '0',
    fee_payment_id: payment.id,
  });
  recalc(ctx, invoice);
}

/** The bank confirms a pending debit: status 4, update_payment fires. */
export function settlePending(ctx: SandboxContext, payment: PaymentRow): PaymentRow {
  if (payment.status_id !== PAYMENT_STATUS.PENDING || payment.is_deleted) {
    throw new ApiError(409, `Payment ${payment.id} is not pending`);
  }
  payment.status_id = PAYMENT_STATUS.COMPLETED;
  payment.settle_at = undefined;
  payment.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/** The bank returns a pending debit: status 3, invoices get their balances back, the fee line goes. */
export function failPending(ctx: SandboxContext, payment: PaymentRow): PaymentRow {
  if (payment.status_id !== PAYMENT_STATUS.PENDING || payment.is_deleted) {
    throw new ApiError(409, `Payment ${payment.id} is not pending`);
  }
  reverseApplications(ctx, payment);
  removeFeeLine(ctx, payment);
  payment.status_id = PAYMENT_STATUS.FAILED;
  payment.settle_at = undefined;
  payment.updated_at = nowSeconds();
  ctx.store.touch();
  ctx.hooks.fire(EVENT.UPDATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/** The auto_bill action: charges the saved card for the balance (no fee); nothing happens without a card. */
export function autoBill(ctx: SandboxContext, invoice: InvoiceRow): PaymentRow | undefined {
  const client = ctx.store.client(invoice.client_id)!;
  const token = client.gateway_tokens[0];
  if (!token || invoice.is_deleted || invoice.balance <= 0 || (invoice.status_id !== 2 && invoice.status_id !== 3)) return undefined;
  const payment = newPayment(ctx, client, {
    amount: invoice.balance,
    is_manual: false,
    gateway_type_id: '1',
    type_id: '5',
    company_gateway_id: GATEWAY_ID,
    transaction_reference: `ch_${randomKey(24)}`,
  });
  applyToInvoices(ctx, payment, [{ invoice, amount: invoice.balance }]);
  ctx.store.addPayment(payment);
  maybeReceipt(ctx, payment, client, undefined, 'client_online_payment_notification');
  ctx.store.touch();
  ctx.hooks.fire(EVENT.CREATE_PAYMENT, 'payment', payment.id);
  return payment;
}

/**
 * How one portal payment is applied in the ERP: a pure plan, computed from the payment, the ERP invoices it names and the
 * application settings. The payment workflow asks for the plan, posts what it says, and parks the payment for finance when
 * the plan carries an attention reason.
 *
 * Rules, in the order they are applied:
 *  1. Bad input (non-integer amounts, a non-positive payment, allocations that are not positive or add up to more than the
 *     payment) throws ApplicationInputError: it must be rejected at the boundary (the payment workflow parks the payment
 *     as `invalid_allocation` rather than fail its workflow task on it).
 *  2. A payment above `maxPaymentMinor` waits for finance (`over_cap`) unless finance allowed it.
 *  3. A payment whose portal client has no ERP customer waits (`unknown_customer`).
 *  4. Every allocated invoice is checked, in the portal's order. The first problem parks the whole payment, so nothing is half
 *     posted: not found or status unknown -> `unknown_invoice`; another customer's invoice -> `unknown_customer`; another
 *     currency -> `currency_mismatch`. Finance may resolve an invoice as `post_unapplied` (its gateway fee still goes to
 *     the fee account) or `skip`.
 *  5. An open invoice gets one cash-receipt line applied to it. An open invoice with nothing remaining is treated as closed.
 *     With `disallowOverpayments`, at most the invoice's remaining amount is applied; the excess (typically a portal gateway
 *     fee) goes to `feeAccount` when one is configured and it is within the fee cap. With `overpaymentCredit` any other
 *     excess is the customer's money and is posted unapplied to the customer (credit, reason `over_cap`); without it
 *     (plans recorded before), it was reported as excess, or waited for finance (`over_cap`) above the fee cap.
 *  6. A closed invoice: with `postPaymentsForClosedInvoices` the amount is posted unapplied to the customer, else it is
 *     skipped with reason `closed_invoice` (visible, and indexed so finance can find and override it).
 *  7. Money the portal did not allocate to any invoice (an over-payment or a client-initiated payment) is posted unapplied
 *     to the customer: the portal shows it as client credit, the ERP as an open payment.
 *
 * Invariant: the parts of every plan (applied + unapplied + fee + excess + skipped + held) add up to the payment amount, so no
 * money is ever silently lost. A parked payment holds its whole amount in one `held` part.
 *
 * The method code is the configured one, else the customer's; the balancing account is the method's own, else the default,
 * else none (the journal batch's own balancing account applies). The portal payment id is the external document number of
 * every line, which makes a retried posting recognisable.
 */

export const ATTENTION_REASONS = [
  'unknown_invoice',
  'unknown_customer',
  'currency_mismatch',
  'ambiguous_adjustment',
  'closed_invoice',
  'over_cap',
  'erp_rejected',
  'missing_email',
  'drift',
  'unknown_payment',
  'invalid_allocation',
  'unclear_reversal',
] as const;
export type AttentionReason = (typeof ATTENTION_REASONS)[number];

/**
 * Reasons only an invoice workflow waits for, never a payment: the customer is not opted in to the portal ("Allow
 * Online Customer Payment Portal" is off), or the portal refused the invoice (a validation error retrying cannot fix).
 */
export const INVOICE_ONLY_ATTENTION_REASONS = ['not_opted_in', 'portal_rejected'] as const;
export type InvoiceAttentionReason = AttentionReason | (typeof INVOICE_ONLY_ATTENTION_REASONS)[number];

export function isAttentionReason(value: unknown): value is AttentionReason {
  return typeof value === 'string' && (ATTENTION_REASONS as readonly string[]).includes(value);
}

export interface PaymentAllocation {
  invoiceNumber: string;
  /** What the portal put on the invoice, including any gateway fee the portal added for this payment. */
  amountMinor: number;
  /**
   * The part of `amountMinor` that is the portal's gateway (convenience) fee, which the ERP invoice never had: booked to
   * the fee account, or reported as excess when there is none (src/domain/gatewayFees.ts computes it).
   */
  feeMinor?: number;
}

export interface PaymentToApply {
  /** Portal payment id; becomes the external document number of every line. */
  paymentId: string;
  amountMinor: number;
  currency: string;
  /** ERP customer number of the portal client, or null when no ERP customer is known for it. */
  customerNumber: string | null;
  /** Per-invoice amounts from the portal (its paymentables), in the portal's order. */
  allocations: readonly PaymentAllocation[];
  /** The customer's own ERP payment method code, used when the settings name none. */
  customerMethodCode?: string | null;
}

export type ErpInvoiceStatus = 'open' | 'closed' | 'unknown';

export interface ErpInvoiceInfo {
  number: string;
  customerNumber: string;
  currency: string;
  remainingMinor: number;
  status: ErpInvoiceStatus;
}

export interface FeeCap {
  /** Largest excess booked as a fee, in minor units. */
  maxMinor?: number;
  /** Largest excess booked as a fee, in basis points of the amount applied to the invoice (300 = 3%). */
  maxBasisPoints?: number;
}

export interface ApplicationSettings {
  postPaymentsForClosedInvoices: boolean;
  disallowOverpayments: boolean;
  feeAccount?: string | null;
  feeCap?: FeeCap;
  /**
   * An excess over the invoice's remaining amount that may not go to the fee account (above the fee cap, or no fee
   * account) is the customer's money (paid twice, paid in the ERP meanwhile, credited): it is posted unapplied to the
   * customer as credit. Absent in plans recorded before it existed: such an excess was reported, or parked above the cap.
   */
  overpaymentCredit?: boolean;
  journalBatch: string;
  paymentMethodCode?: string | null;
  /** ERP payment method code -> that method's own balancing account. */
  methodBalancingAccounts?: Readonly<Record<string, string>>;
  defaultBalancingAccount?: string | null;
  /** Payments above this amount wait for finance (absurd-amount guard). */
  maxPaymentMinor?: number;
}

/** Decisions finance made for a parked payment; the plan is recomputed with them. */
export interface FinanceResolutions {
  /** Per invoice number: post that allocation unapplied to the customer, or skip it. */
  invoices?: Readonly<Record<string, 'post_unapplied' | 'skip'>>;
  /** Accept an amount above maxPaymentMinor or an excess above the fee cap. */
  allowOverCap?: boolean;
}

interface PartBase {
  amountMinor: number;
  invoiceNumber: string | null;
}

/** A cash-receipt line applied to an invoice. */
export interface AppliedPart extends PartBase {
  kind: 'applied';
  invoiceNumber: string;
}
/** A cash-receipt line to the customer with no application (customer credit). */
export interface UnappliedPart extends PartBase {
  kind: 'unapplied';
  why: 'closed_invoice' | 'not_allocated' | 'finance_decision' | 'overpayment';
}
/** The excess over an invoice's remaining amount, booked to the fee account. */
export interface FeePart extends PartBase {
  kind: 'fee';
  account: string;
}
/** The excess over an invoice's remaining amount when there is no fee account: reported, not posted. */
export interface ExcessPart extends PartBase {
  kind: 'excess';
}
/** An allocation not posted, with its reason. */
export interface SkippedPart extends PartBase {
  kind: 'skipped';
  reason: 'closed_invoice' | 'finance_decision';
}
/** The whole payment, held while it waits for finance. */
export interface HeldPart extends PartBase {
  kind: 'held';
}

export type PlanPart = AppliedPart | UnappliedPart | FeePart | ExcessPart | SkippedPart | HeldPart;

export interface PlanAttention {
  reason: AttentionReason;
  detail: string;
  invoiceNumbers: string[];
}

export interface ApplicationPlan {
  paymentId: string;
  currency: string;
  customerNumber: string | null;
  journalBatch: string;
  externalDocumentNumber: string;
  methodCode: string | null;
  balancingAccount: string | null;
  parts: PlanPart[];
  /** Set when the rules cannot decide; then `parts` is a single `held` part and nothing may be posted. */
  attention: PlanAttention | null;
}

export class ApplicationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplicationInputError';
  }
}

export function planApplication(
  payment: PaymentToApply,
  invoices: readonly ErpInvoiceInfo[],
  settings: ApplicationSettings,
  resolutions: FinanceResolutions = {},
): ApplicationPlan {
  validate(payment);
  const methodCode = settings.paymentMethodCode || payment.customerMethodCode || null;
  const balancingAccount =
    (methodCode ? settings.methodBalancingAccounts?.[methodCode] : undefined) || settings.defaultBalancingAccount || null;
  const base = {
    paymentId: payment.paymentId,
    currency: payment.currency,
    customerNumber: payment.customerNumber,
    journalBatch: settings.journalBatch,
    externalDocumentNumber: payment.paymentId,
    methodCode,
    balancingAccount,
  };
  const park = (reason: AttentionReason, detail: string, invoiceNumbers: string[] = []): ApplicationPlan => ({
    ...base,
    parts: [{ kind: 'held', amountMinor: payment.amountMinor, invoiceNumber: null }],
    attention: { reason, detail, invoiceNumbers },
  });

  if (settings.maxPaymentMinor !== undefined && payment.amountMinor > settings.maxPaymentMinor && !resolutions.allowOverCap) {
    return park('over_cap', `payment of ${payment.amountMinor} exceeds the cap of ${settings.maxPaymentMinor} minor units`);
  }
  if (!payment.customerNumber) {
    return park('unknown_customer', 'the portal client has no ERP customer');
  }

  const byNumber = new Map(invoices.map((inv) => [inv.number, inv]));
  const parts: PlanPart[] = [];
  // First pass: every allocation must be decidable before anything is planned, so a payment is never half posted.
  const unknown: string[] = [];
  const otherCustomer: string[] = [];
  const otherCurrency: string[] = [];
  for (const alloc of payment.allocations) {
    if (resolutions.invoices?.[alloc.invoiceNumber]) continue;
    const inv = byNumber.get(alloc.invoiceNumber);
    if (!inv || inv.status === 'unknown') unknown.push(alloc.invoiceNumber);
    else if (inv.customerNumber !== payment.customerNumber) otherCustomer.push(alloc.invoiceNumber);
    else if (inv.currency !== payment.currency) otherCurrency.push(alloc.invoiceNumber);
  }
  if (unknown.length) return park('unknown_invoice', `invoice(s) not found in the ERP: ${unknown.join(', ')}`, unknown);
  if (otherCustomer.length) {
    return park(
      'unknown_customer',
      `invoice(s) ${otherCustomer.join(', ')} belong to another customer than ${payment.customerNumber}`,
      otherCustomer,
    );
  }
  if (otherCurrency.length) {
    return park(
      'currency_mismatch',
      `invoice(s) ${otherCurrency.join(', ')} are not in the payment currency ${payment.currency}`,
      otherCurrency,
    );
  }

  for (let alloc of payment.allocations) {
    const decision = resolutions.invoices?.[alloc.invoiceNumber];
    if (decision === 'skip') {
      parts.push({ kind: 'skipped', amountMinor: alloc.amountMinor, invoiceNumber: alloc.invoiceNumber, reason: 'finance_decision' });
      continue;
    }
    // The portal's gateway fee is never the customer's money, whatever finance decided for the rest.
    const gatewayFee = Math.min(alloc.feeMinor ?? 0, alloc.amountMinor);
    if (gatewayFee > 0) {
      parts.push(
        settings.feeAccount
          ? { kind: 'fee', amountMinor: gatewayFee, invoiceNumber: alloc.invoiceNumber, account: settings.feeAccount }
          : { kind: 'excess', amountMinor: gatewayFee, invoiceNumber: alloc.invoiceNumber },
      );
      if (gatewayFee === alloc.amountMinor) continue;
      alloc = { ...alloc, amountMinor: alloc.amountMinor - gatewayFee };
    }
    if (decision === 'post_unapplied') {
      parts.push({ kind: 'unapplied', amountMinor: alloc.amountMinor, invoiceNumber: alloc.invoiceNumber, why: 'finance_decision' });
      continue;
    }
    const inv = byNumber.get(alloc.invoiceNumber)!;
    if (inv.status === 'closed' || inv.remainingMinor <= 0) {
      parts.push(
        settings.postPaymentsForClosedInvoices
          ? { kind: 'unapplied', amountMinor: alloc.amountMinor, invoiceNumber: inv.number, why: 'closed_invoice' }
          : { kind: 'skipped', amountMinor: alloc.amountMinor, invoiceNumber: inv.number, reason: 'closed_invoice' },
      );
      continue;
    }
    if (!settings.disallowOverpayments || alloc.amountMinor <= inv.remainingMinor) {
      parts.push({ kind: 'applied', amountMinor: alloc.amountMinor, invoiceNumber: inv.number });
      continue;
    }
    const excess = alloc.amountMinor - inv.remainingMinor;
    if (settings.overpaymentCredit) {
      // No cap configured: nothing beyond the portal's own gateway fee is booked as a fee. Finance allowing a large
      // payment through (allowOverCap) says nothing of its excess: above the cap it stays the customer's.
      const cap = settings.feeCap ?? { maxMinor: 0 };
      const asFee = settings.feeAccount && !exceedsFeeCap(excess, inv.remainingMinor, cap);
      parts.push({ kind: 'applied', amountMinor: inv.remainingMinor, invoiceNumber: inv.number });
      parts.push(
        asFee
          ? { kind: 'fee', amountMinor: excess, invoiceNumber: inv.number, account: settings.feeAccount! }
          : { kind: 'unapplied', amountMinor: excess, invoiceNumber: inv.number, why: 'overpayment' },
      );
      continue;
    }
    if (settings.feeAccount && !resolutions.allowOverCap && exceedsFeeCap(excess, inv.remainingMinor, settings.feeCap)) {
      return park(
        'over_cap',
        `excess of ${excess} over invoice ${inv.number}'s remaining ${inv.remainingMinor} is above the fee cap`,
        [inv.number],
      );
    }
    parts.push({ kind: 'applied', amountMinor: inv.remainingMinor, invoiceNumber: inv.number });
    parts.push(
      settings.feeAccount
        ? { kind: 'fee', amountMinor: excess, invoiceNumber: inv.number, account: settings.feeAccount }
        : { kind: 'excess', amountMinor: excess, invoiceNumber: inv.number },
    );
  }

  const unallocated = payment.amountMinor - sumAllocations(payment.allocations);
  if (unallocated > 0) parts.push({ kind: 'unapplied', amountMinor: unallocated, invoiceNumber: null, why: 'not_allocated' });

  return { ...base, parts, attention: null };
}

/** Sum of all parts of a plan; equals the payment amount for every plan this module returns. */
export function planTotal(plan: ApplicationPlan): number {
  return plan.parts.reduce((acc, p) => acc + p.amountMinor, 0);
}

/** The parts that become ERP journal lines (applied, unapplied and fee lines). */
export function postableParts(plan: ApplicationPlan): Array<AppliedPart | UnappliedPart | FeePart> {
  if (plan.attention) return [];
  return plan.parts.filter((p): p is AppliedPart | UnappliedPart | FeePart =>
    p.kind === 'applied' || p.kind === 'unapplied' || p.kind === 'fee',
  );
}

/**
 * The payment stage a plan leads to and the reason to index it under: parked plans need attention, plans with nothing to
 * post are skipped (with `closed_invoice` when that is why), the rest are applied (ready to post). A plan that posts some
 * lines but skipped others (`closed_invoice`), reported an excess with no fee account or credited an overpayment to the
 * customer (`over_cap`) still carries that reason, so finance finds it.
 */
export function planOutcome(plan: ApplicationPlan): {
  stage: 'needs_attention' | 'skipped' | 'applied';
  reason: AttentionReason | null;
} {
  if (plan.attention) return { stage: 'needs_attention', reason: plan.attention.reason };
  const closedSkip = plan.parts.some((p) => p.kind === 'skipped' && p.reason === 'closed_invoice');
  const excess = plan.parts.some((p) => p.kind === 'excess' || (p.kind === 'unapplied' && p.why === 'overpayment'));
  const reason: AttentionReason | null = closedSkip ? 'closed_invoice' : excess ? 'over_cap' : null;
  return { stage: postableParts(plan).length ? 'applied' : 'skipped', reason };
}

function exceedsFeeCap(excess: number, applied: number, cap: FeeCap | undefined): boolean {
  if (!cap) return false;
  if (cap.maxMinor !== undefined && excess > cap.maxMinor) return true;
  // Integer comparison: excess / applied > bp / 10000  <=>  excess * 10000 > bp * applied.
  if (cap.maxBasisPoints !== undefined && excess * 10000 > cap.maxBasisPoints * applied) return true;
  return false;
}

function sumAllocations(allocations: readonly PaymentAllocation[]): number {
  return allocations.reduce((acc, a) => acc + a.amountMinor, 0);
}

function validate(payment: PaymentToApply): void {
  if (!Number.isSafeInteger(payment.amountMinor) || payment.amountMinor <= 0) {
    throw new ApplicationInputError(
      `payment ${payment.paymentId}: amount must be a positive integer of minor units (negative payments are matched, not applied), got ${payment.amountMinor}`,
    );
  }
  const seen = new Set<string>();
  for (const a of payment.allocations) {
    if (!Number.isSafeInteger(a.amountMinor) || a.amountMinor <= 0) {
      throw new ApplicationInputError(
        `payment ${payment.paymentId}: allocation to invoice ${a.invoiceNumber} must be a positive integer of minor units, got ${a.amountMinor}`,
      );
    }
    if (seen.has(a.invoiceNumber)) {
      throw new ApplicationInputError(`payment ${payment.paymentId}: invoice ${a.invoiceNumber} is allocated twice`);
    }
    seen.add(a.invoiceNumber);
    if (a.feeMinor !== undefined && (!Number.isSafeInteger(a.feeMinor) || a.feeMinor < 0)) {
      throw new ApplicationInputError(`payment ${payment.paymentId}: fee on invoice ${a.invoiceNumber} must be a non-negative integer, got ${a.feeMinor}`);
    }
  }
  const allocated = sumAllocations(payment.allocations);
  if (allocated > payment.amountMinor) {
    throw new ApplicationInputError(
      `payment ${payment.paymentId}: allocations add up to ${allocated}, more than the payment amount ${payment.amountMinor}`,
    );
  }
}

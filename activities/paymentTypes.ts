import type { ApplicationSettings, ErpInvoiceInfo, PaymentAllocation } from '../src/domain/application';
import type { FeeLine } from '../src/domain/reversal';

/** What a payment workflow needs to know about its portal payment, re-read from the portal on every observation. */
export interface PaymentContext {
  paymentId: string;
  connectionKey: string;
  /** Signed: negative for a negative (adjustment or refund) payment. */
  amountMinor: number;
  refundedMinor: number;
  currency: string;
  /** ISO date (yyyy-mm-dd) of the payment, used as the posting date. */
  date: string;
  createdAtMs: number;
  /** The portal's updated_at (unix seconds) of what this read saw. */
  updatedAtSec?: number;
  portalStatus: 'pending' | 'completed' | 'failed' | 'voided' | 'partially_refunded' | 'refunded';
  /** `erp`: a payment we recorded in the portal ourselves (never posted back to the ERP). */
  origin: 'portal' | 'erp';
  portalClientId: string;
  /** ERP customer number of the portal client (the client's `number`), null when the portal client has none. */
  customerNumber: string | null;
  allocations: PaymentAllocation[];
  invoiceNumbers: string[];
  /** ERP payment method code for the portal payment type (settings.payments.methodCodes). */
  methodCode: string | null;
  erp: ErpPostingState;
  /** The allocations' ERP invoices and the posting settings, read with the payment when it is to be planned. */
  erpInvoices?: { invoices: ErpInvoiceInfo[]; settings: ApplicationSettings; customerMethodCode?: string | null };
  /** The portal balance of each invoice the payment is applied to, by invoice number, as this read saw it. */
  portalBalances?: Record<string, number>;
  /** The ERP payment journal batch postings go to (its journal poster takes them). */
  journalBatch?: string;
  /** The read offered this (positive) payment to the customer's arbiter already; its answer comes by signal. */
  offered?: boolean;
  /** The read found no negative payment of the customer waiting for a partner: nothing to offer, no answer to wait for. */
  noPartnerWaiting?: boolean;
}

export interface ErpPostingState {
  posted: boolean;
  /** Received from the customer (the payment's own receipts), positive minor units. */
  postedMinor: number;
  reversed: boolean;
  /** Paid back to the customer by reversals (`<id>-R`, `<id>-R2`, …), positive minor units. */
  reversedMinor: number;
  /** Paid out to the customer by the payment's own posting (a refund), positive minor units (absent: read before it was kept). */
  paidOutMinor?: number;
  /** How many reversals were posted: the next one is keyed `<id>-R<reversals + 1>`. */
  reversals: number;
  /** The customer the posting went to, when posted. */
  customerNumber: string | null;
  lines: Array<{ amountMinor: number; invoiceNumber: string | null }>;
  /** What the posting booked beyond the customer, read only where a reversal may be owed (absent: not read). */
  general?: ErpGeneralPosting;
}

/** The G/L side of a payment's posting: its general journal part, under the document number of its key. */
export interface ErpGeneralPosting {
  /** The lines that credited a G/L account (the fee and the excess on the fee account), with their balancing account. */
  feeLines: FeeLine[];
  /** Debited back to those accounts by the reversals (`<id>-R`, `<id>-R2`, …). */
  feeReversedMinor: number;
  /** The G/L entries could not be read as lines (each an account entry, then its balancing entry): finance decides. */
  unclear?: string;
}

export type AdjustmentMatch =
  | { decision: 'adjustment'; partnerPaymentId: string }
  | { decision: 'none' }
  | { decision: 'wait'; untilMs: number }
  | { decision: 'refund' }
  | { decision: 'ambiguous'; candidates: string[] };

/** A voided negative payment's released pair: the partner, and what the pair reversed of its posting. */
export interface AdjustmentRelease {
  partnerPaymentId: string | null;
  /** Reversed of the partner's posting for this pair (its `<partner>-R…` entries naming this payment), minor units. */
  reversedMinor: number;
  customerNumber: string | null;
  partnerPosted: boolean;
  /** The partner's next reversal key, under which what is still reversed for this pair is taken back (absent: older build). */
  takeBackKey?: string | null;
}

export interface MatchablePayment {
  paymentId: string;
  amountMinor: number;
  currency: string;
  atMs: number;
}

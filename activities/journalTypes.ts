// Shapes exchanged between payment workflows, the journal poster and the posting activity.

/**
 * `refund_reversal`: a posted refund taken back (voided in the portal): credits the customer, as the refund debited it.
 * `fee_reversal`: a fee line taken back: debits its G/L account, crediting the account the fee's posting debited.
 */
export type JournalLineKind = 'applied' | 'unapplied' | 'fee' | 'refund' | 'reversal' | 'refund_reversal' | 'fee_reversal';

export interface JournalLineRequest {
  kind: JournalLineKind;
  customerNumber: string;
  /** Positive minor units: the amount received (applied/unapplied/fee), paid back (refund/reversal) or taken back (refund_reversal). */
  amountMinor: number;
  currency: string;
  /** Applies-to invoice for `applied` lines. */
  invoiceNumber?: string | null;
  /** G/L account for `fee` and `fee_reversal` lines. */
  account?: string | null;
  /** `fee_reversal`: the account to credit (the one the fee's posting debited); absent: as a fee line balances. */
  balancingAccount?: string | null;
  description: string;
}

export interface JournalPostRequest {
  /** Idempotency key: the portal payment id (or `<id>-R` for a reversal). */
  externalDocumentNumber: string;
  paymentMethodCode?: string | null;
  balancingAccountNo?: string | null;
  postingDate: string;
  lines: JournalLineRequest[];
  /** Tell staff once it is posted (a payment received): the poster does it after the group commit. */
  notify?: PaymentPostedNotice;
}

export interface PaymentPostedNotice {
  connectionKey: string;
  paymentId: string;
  /** What was received, positive minor units. */
  amountMinor: number;
  currency: string;
}

export interface PostedEntry {
  entryNumber: number;
  documentNumber: string;
  amountMinor: number;
  invoiceNumber: string | null;
}

export type JournalPostResult =
  | {
      externalDocumentNumber: string;
      status: 'posted' | 'already_posted';
      entries: PostedEntry[];
      /** ERP remaining amounts of the applied invoices right after posting. */
      invoiceRemaining: Record<string, number>;
      /** The request's `notify` went out (when it did not, the requester sends it). */
      staffNotified?: boolean;
    }
  | { externalDocumentNumber: string; status: 'rejected'; code: string; message: string };

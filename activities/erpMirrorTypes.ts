// Shapes exchanged between the ERP-to-portal activities (activities/erpMirror.ts) and the workflows that drive them
// (erpWatcher, windowSync, driftSweep, erpApplications).

import type { MirrorDecision } from '../src/domain/erpMirror';

/** How a batch of invoices is brought in line. */
export type MirrorMode =
  /** The ledger watcher: only what the entries modified since the watermark explain. */
  | 'watch'
  /** Window sync (seed 001): paid amounts brought in line for the invoices touched in the window. */
  | 'window'
  /** Drift sweep: like window, and portal payments stuck before the ERP are retried. */
  | 'sweep'
  /** "Filter Unsynced Applications": what would be recorded or reduced, changing nothing. */
  | 'list'
  /** Sync the selected applications only. */
  | 'sync';

/** An invoice whose ledger entry changed, and its customer. */
export interface TouchedInvoice {
  invoiceNumber: string;
  customerNumber: string;
}

export type MirrorRowStatus =
  /** Something was recorded or reduced in the portal (or would be, in list mode). */
  | 'changed'
  | 'already_right'
  /** The ERP invoice is unknown to the portal (never synced): reported, and the run carries on. */
  | 'not_in_portal'
  /** A portal payment to it is still on its way in a form the balances cannot account for yet: next time. */
  | 'deferred'
  /** The balances differ in a way the rules do not heal: reported (AttentionReason=drift). */
  | 'drift'
  | 'failed';

export interface MirrorRow {
  invoiceNumber: string;
  customerNumber: string;
  currency: string | null;
  status: MirrorRowStatus;
  decision: MirrorDecision['kind'] | null;
  detail: string;
  /** ERP total − remaining amount. */
  erpPaidMinor: number | null;
  erpRemainingMinor: number | null;
  portalBalanceBeforeMinor: number | null;
  portalBalanceAfterMinor: number | null;
  /** Amount paid in the portal (portal total without gateway fee lines − balance), after this run. */
  portalPaidMinor: number | null;
  recordedMinor: number;
  removedMinor: number;
  unresolvedMinor: number;
  /** Only when paid in full (seed 001): the date of the application that completed it. */
  datePaid: string | null;
  /** Portal payments recorded or reduced for this invoice (their `erp:` references). */
  references: string[];
  /** Portal payments not yet posted in the ERP whose workflows were nudged to retry (drift sweep). */
  retriedPayments: string[];
  /**
   * What was done to the invoice's workflow: woken (running, cancelled or credited in the ERP while open in the portal),
   * or reopened (it had ended at posted: a new run carries its state; src/temporal/starters.ts `reopenEndedInvoice`).
   */
  invoiceWorkflow?: 'woken' | 'reopened';
}

/** An ERP application or unapplication and the portal payment that mirrors it: listed, synced, and told to the invoice. */
export interface ErpApplicationRow {
  kind: 'application' | 'unapplication';
  entryNumber: number | null;
  reference: string;
  customerNumber: string;
  /** Payment, Credit Memo, or Invoice when keyed by the invoice's own entry. */
  documentType: string;
  documentNumber: string;
  postingDate: string;
  currency: string;
  amountMinor: number;
  invoices: Array<{ invoiceNumber: string; amountMinor: number }>;
  /** The portal payment created or reduced (not in list mode). */
  portalPaymentId: string | null;
  /** deleted or refunded, for unapplications. */
  action?: 'recorded' | 'deleted' | 'refunded';
}

/** What the invoice workflow is told (erpApplicationSignal), one per invoice and portal payment. */
export interface ErpApplicationNote {
  invoiceNumber: string;
  entryNumber: number;
  amountMinor: number;
  kind: 'applied' | 'unapplied';
  postedAt: string;
  portalPaymentId?: string;
}

export interface MirrorBatchResult {
  rows: MirrorRow[];
  applications: ErpApplicationRow[];
  notes: ErpApplicationNote[];
}

/** One poll of the ledger watermark. */
export interface ErpPollResult extends MirrorBatchResult {
  /** The newest lastModifiedDateTime read, or null when nothing changed. */
  newestModified: string | null;
  entriesRead: number;
  /** Invoices to look at again next poll (deferred or failed). */
  retry: TouchedInvoice[];
  /** Every entry read, as `<entry number>@<lastModifiedDateTime>`: the overlap of the next read skips them. */
  seen: string[];
}

/** An invoice workflow whose indexed amount due differs from the ERP's remaining amount (the drift sweep wakes it). */
export interface StaleInvoice {
  invoiceNumber: string;
  indexedMinor: number;
  erpRemainingMinor: number;
}

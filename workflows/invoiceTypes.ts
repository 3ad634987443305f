import type { InvoiceAttentionReason } from '../src/domain/application';
import type { InvoiceStage } from '../src/domain/stages';

export type TimelineKind =
  | 'synced'
  | 'link_copied'
  | 'link_sent'
  /** A channel that could not be used (no address) or a send that failed. */
  | 'link_failed'
  | 'viewed'
  | 'payment_made'
  /** The portal took a payment that waits to settle (bank), or waits for finance, or a posted one was taken back. */
  | 'payment_pending'
  | 'payment_parked'
  | 'payment_reversed'
  /** A payment the timeline said waits ended without reaching the ERP (failed, voided, skipped). */
  | 'payment_ended'
  | 'erp_payment'
  | 'erp_unapplied'
  | 'posted'
  | 'attention'
  | 'reset'
  /** A run that ended at posted started again because the ERP reopened, credited or cancelled the invoice (detail: why). */
  | 'reopened'
  | 'cancelled';

export interface TimelineEvent {
  at: string;
  kind: TimelineKind;
  channel?: 'email' | 'sms';
  amountMinor?: number;
  by?: string;
  detail?: string;
}

export interface PortalLink {
  connectionKey: string;
  clientId: string;
  invoiceId: string;
  invitationKey: string;
  /** The customer's view-and-pay link. */
  link: string;
}

export interface InvoiceState {
  companyId: string;
  invoiceNumber: string;
  customerNumber: string | null;
  currency: string | null;
  totalMinor: number;
  erpRemainingMinor: number | null;
  portalBalanceMinor: number | null;
  portal: PortalLink | null;
  stage: InvoiceStage;
  attention: { reason: InvoiceAttentionReason; detail: string } | null;
  linkSent: boolean;
  viewed: boolean;
  cancelled: boolean;
  /** Portal payment ids posted to this invoice, and the ERP entries applied to it. */
  postedPayments: string[];
  erpEntries: number[];
  /** Customer payments the portal shows on this invoice (not the ones recorded from the ERP): posted once all are in postedPayments. */
  portalPayments: string[];
  /** Bounded: the newest events are kept across continue-as-new. */
  timeline: TimelineEvent[];
  /** The newest portal viewed_date seen: a view is recorded only when it changes. */
  lastViewedAt: string | null;
  /** Link sends so far (each send's idempotency key carries its sequence number, so a resend really sends). */
  linkSends: number;
  /** Runs handed over with continue-as-new so far (history stays small for invoices that live for months). */
  continuedAsNew: number;
}

/** Fills fields a state carried from an older run may lack. */
export function withStateDefaults(s: InvoiceState): InvoiceState {
  return {
    ...s,
    lastViewedAt: s.lastViewedAt ?? null,
    linkSends: s.linkSends ?? s.timeline.filter((e) => e.kind === 'link_sent').length,
    continuedAsNew: s.continuedAsNew ?? 0,
    portalPayments: s.portalPayments ?? [],
  };
}

import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { InvoiceState, TimelineEvent } from './invoiceTypes';

// Messages of the invoice workflow, in their own module so payment workflows, the API and the CLI can import them
// without importing the invoice workflow itself.

/**
 * A portal payment to this invoice was posted in the ERP (from the payment workflow): the ERP's remaining amount after
 * the posting, and the portal balance the payment's own read saw (that payment included).
 */
export const paymentPostedSignal = defineSignal<[PaymentToInvoice]>('paymentPosted');
export interface PaymentToInvoice {
  paymentId: string;
  amountMinor: number;
  erpRemainingMinor: number | null;
  portalBalanceMinor?: number | null;
  /**
   * What happened to a payment that is not (or no longer) posted, for the invoice's timeline: the portal took it and it
   * waits to settle (pending), it waits for finance (parked, with the reason), a posting was taken back (reversed), or
   * one it said waits ended without reaching the ERP (ended: failed, voided, skipped).
   * Absent: the payment was posted (or, with amount 0, look again).
   */
  /** `amountMinor`: this invoice's part (absent where one cannot be told apart, the detail then says the whole). */
  event?: { kind: 'pending' | 'parked' | 'reversed' | 'ended'; amountMinor?: number; detail: string };
}
/**
 * The customer opened the invoice (from the portal watcher; staff previews never arrive here). `staffNotified`: the
 * watcher told staff of this first view itself (the invoice then does not).
 */
export const invoiceViewedSignal = defineSignal<[{ viewedAt: string; staffNotified?: boolean }]>('invoiceViewed');
/** A payment or other application made inside the ERP, or its unapplication (from the ERP watcher). */
export const erpApplicationSignal = defineSignal<
  [{ entryNumber: number; amountMinor: number; kind: 'applied' | 'unapplied'; postedAt: string; portalPaymentId?: string }]
>('erpApplication');
/** Something changed on the ERP invoice (status, remaining amount): re-read it. */
export const erpInvoiceChangedSignal = defineSignal<[{ reason: string }]>('erpInvoiceChanged');
/** The drift sweep's finding: the balances differ beyond what the rules heal (drift), or agree again (workflows/driftSweep.ts). */
export const driftDetectedSignal = defineSignal<[{ drift: boolean; detail: string }]>('driftDetected');
/**
 * The customer's sync answered it is still not ready, and why (from the customer workflow): an invoice waiting for it
 * shows that reason at once instead of the one it parked with.
 */
export const customerNotReadySignal = defineSignal<[{ reason: 'missing_email' | 'not_opted_in' | 'unknown_customer' | 'portal_rejected'; detail: string }]>(
  'customerNotReady',
);
/** The customer is ready in the portal now (opted in, email fixed and resynced). */
export const customerReadySignal = defineSignal<[{ clientId: string; connectionKey: string }]>('customerReady');

/** The channels the link went by, and those it could not (no address, or refused for good by the provider) with why. */
export const sendLinkUpdate = defineUpdate<
  { sent: Array<'email' | 'sms'>; skipped: Array<{ channel: 'email' | 'sms'; reason: string }>; link: string },
  [{ channels?: Array<'email' | 'sms'>; by: string }]
>('sendLink');
export const copyLinkUpdate = defineUpdate<{ link: string }, [{ by: string }]>('copyLink');
/** "Modify Sync Status": forget the portal link so the invoice is synced again. */
export const resetSyncUpdate = defineUpdate<InvoiceState, [{ by: string; why: string }]>('resetSync');
export const cancelInvoiceUpdate = defineUpdate<InvoiceState, [{ by: string; why: string }]>('cancelInvoice');

export const invoiceStateQuery = defineQuery<InvoiceState>('invoiceState');
export const invoiceTimelineQuery = defineQuery<TimelineEvent[]>('invoiceTimeline');
/** A staff preview of the portal invoice that never counts as a customer view. */
export const previewLinkQuery = defineQuery<string | null>('previewLink');

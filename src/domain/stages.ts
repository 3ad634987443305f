/**
 * Invoice and payment stages. The invoice workflow records facts (totals, balances, payments, link sent, viewed, cancelled,
 * attention) and asks `nextInvoiceStage` for its stage, so the stage rule lives here, once, and is tested.
 *
 * Invoice stage, derived from the facts in this order:
 *   cancelled        the ERP cancelled or credited the invoice (terminal)
 *   needs_attention  an attention reason is set (e.g. missing_email, drift)
 *   syncing          no portal invoice yet
 *   posted           ERP remaining is zero and no portal payment is waiting to be posted
 *   paid             portal balance is zero, or ERP remaining is zero while a portal payment is still being posted
 *   partially_paid   either side shows less than the total outstanding, or a payment to it exists
 *   viewed           the customer viewed the invoice (staff previews never count)
 *   link_sent        the pay link was sent or copied
 *   synced           the portal invoice exists
 *
 * Stages never go backwards, with three documented exceptions:
 *   1. reset ("Modify Sync Status"): the workflow forgets the portal link and re-derives from scratch;
 *   2. needs_attention: entered whenever a reason is set, and left (to whatever the facts say) when it is cleared;
 *   3. money reversal: a payment voided, refunded or unapplied after partially_paid/paid/posted moves the invoice back to what
 *      the balances say (money stages follow the money), but never below the engagement stage already reached, because the
 *      engagement facts (link sent, viewed) only ever turn true.
 * Any other lower derivation (a stale read, say) keeps the previous stage.
 */

import type { AttentionReason } from './application';

export const INVOICE_STAGES = [
  'syncing',
  'synced',
  'link_sent',
  'viewed',
  'partially_paid',
  'paid',
  'posted',
  'cancelled',
  'needs_attention',
] as const;
export type InvoiceStage = (typeof INVOICE_STAGES)[number];

export const PAYMENT_STAGES = [
  'staged',
  'pending',
  'classified',
  'applied',
  'posted',
  'skipped',
  'adjusted',
  'refunded',
  'needs_attention',
] as const;
export type PaymentStage = (typeof PAYMENT_STAGES)[number];

/** The forward progression of an invoice; cancelled and needs_attention sit outside it. */
const PROGRESSION: readonly InvoiceStage[] = ['syncing', 'synced', 'link_sent', 'viewed', 'partially_paid', 'paid', 'posted'];
const MONEY_STAGES: readonly InvoiceStage[] = ['partially_paid', 'paid', 'posted'];

export interface InvoiceFacts {
  /** ERP amount including tax, minor units. */
  totalMinor: number;
  /** Latest ERP remaining amount, or null before it was read. */
  erpRemainingMinor: number | null;
  /** Latest portal balance, or null before the portal invoice exists. */
  portalBalanceMinor: number | null;
  /** The portal invoice exists. */
  portalSynced: boolean;
  linkSent: boolean;
  viewed: boolean;
  /** Portal payments to this invoice already posted in the ERP. */
  paymentsPosted: number;
  /** Portal payments to this invoice known but not yet posted in the ERP. */
  paymentsUnposted: number;
  cancelled: boolean;
  attention: AttentionReason | null;
}

export function isInvoiceStage(value: unknown): value is InvoiceStage {
  return typeof value === 'string' && (INVOICE_STAGES as readonly string[]).includes(value);
}

export function isPaymentStage(value: unknown): value is PaymentStage {
  return typeof value === 'string' && (PAYMENT_STAGES as readonly string[]).includes(value);
}

/** The stage the facts alone describe. */
export function deriveInvoiceStage(f: InvoiceFacts): InvoiceStage {
  if (f.cancelled) return 'cancelled';
  if (f.attention) return 'needs_attention';
  if (!f.portalSynced) return 'syncing';
  const erpZero = f.erpRemainingMinor !== null && f.erpRemainingMinor <= 0;
  const portalZero = f.portalBalanceMinor !== null && f.portalBalanceMinor <= 0;
  if (erpZero && f.paymentsUnposted === 0) return 'posted';
  if (erpZero || portalZero) return 'paid';
  const erpPart = f.erpRemainingMinor !== null && f.erpRemainingMinor < f.totalMinor;
  const portalPart = f.portalBalanceMinor !== null && f.portalBalanceMinor < f.totalMinor;
  if (erpPart || portalPart || f.paymentsPosted + f.paymentsUnposted > 0) return 'partially_paid';
  if (f.viewed) return 'viewed';
  if (f.linkSent) return 'link_sent';
  return 'synced';
}

export type StageMove = 'forward' | 'none' | 'backward' | 'held';

export interface StageDecision {
  stage: InvoiceStage;
  /** forward/backward: the stage changed; none: same stage; held: the facts derived a lower stage that was not allowed. */
  move: StageMove;
}

/**
 * The invoice's next stage given its previous stage (null for a new workflow) and its current facts. `reset` marks the
 * recomputation right after "Modify Sync Status", which may move anywhere.
 */
export function nextInvoiceStage(
  previous: InvoiceStage | null,
  facts: InvoiceFacts,
  opts: { reset?: boolean } = {},
): StageDecision {
  const derived = deriveInvoiceStage(facts);
  if (previous === null) return { stage: derived, move: 'forward' };
  if (derived === previous) return { stage: previous, move: 'none' };
  if (previous === 'cancelled' && !opts.reset) return { stage: 'cancelled', move: 'held' };
  // A reset forgets the portal link, so whatever it derives counts as a move back.
  if (opts.reset) return { stage: derived, move: 'backward' };
  const prevRank = PROGRESSION.indexOf(previous);
  const newRank = PROGRESSION.indexOf(derived);
  if (derived === 'cancelled' || derived === 'needs_attention') return { stage: derived, move: 'forward' };
  if (previous === 'needs_attention') return { stage: derived, move: 'forward' };
  if (newRank > prevRank) return { stage: derived, move: 'forward' };
  if (MONEY_STAGES.includes(previous)) return { stage: derived, move: 'backward' };
  return { stage: previous, move: 'held' };
}

/**
 * Allowed payment stage moves. Forward: staged -> (pending) -> classified -> applied -> posted, or classified -> skipped /
 * adjusted / refunded. Back or sideways, each for a reason: a posted payment voided, refunded or paired later is reversed
 * (posted -> refunded/adjusted/skipped); finance overrides adjusted <-> refunded; a skipped payment can be retried by hand
 * (skipped -> classified); anything can need attention, and finance can resolve to any stage but needs_attention.
 */
const PAYMENT_MOVES: Readonly<Record<PaymentStage, readonly PaymentStage[]>> = {
  staged: ['pending', 'classified', 'skipped', 'needs_attention'],
  pending: ['classified', 'skipped', 'needs_attention'],
  classified: ['applied', 'skipped', 'adjusted', 'refunded', 'needs_attention'],
  applied: ['posted', 'skipped', 'needs_attention'],
  posted: ['refunded', 'adjusted', 'skipped', 'needs_attention'],
  skipped: ['classified', 'needs_attention'],
  adjusted: ['refunded', 'needs_attention'],
  refunded: ['adjusted', 'needs_attention'],
  needs_attention: ['staged', 'pending', 'classified', 'applied', 'posted', 'skipped', 'adjusted', 'refunded'],
};

export function canMovePayment(from: PaymentStage, to: PaymentStage): boolean {
  return from === to || PAYMENT_MOVES[from].includes(to);
}

export function assertPaymentMove(from: PaymentStage, to: PaymentStage): void {
  if (!canMovePayment(from, to)) throw new RangeError(`payment stage cannot move from ${from} to ${to}`);
}

import { matchNegativePayment, type PaymentFact } from '../src/domain/paymentMatching';
import type { AdjustmentMatch, MatchablePayment } from '../activities/paymentTypes';

// The customer workflow's ledger of recent portal payments, and the pairing decisions over it. Kept deterministic and
// free of I/O: the customer workflow calls it from its matchAdjustment Update, one payment at a time, so two payments
// can never both claim the same partner. The rule itself is src/domain/paymentMatching.ts.

export interface MatchLedgerEntry {
  id: string;
  amountMinor: number;
  currency: string;
  atMs: number;
  pairedWith: string | null;
  /** A negative payment waiting for a partner until its window closes. */
  waiting: boolean;
  /** A negative payment whose window closed without a partner: a refund. */
  refund: boolean;
  /**
   * A positive payment paired by a negative one, published in the customer's memo until it asks (its workflow may not
   * run yet when the pairing is made, and a signal to a workflow that does not exist is lost).
   */
  listed?: boolean;
  /**
   * A negative payment voided in the portal after it was paired: the positive partner it had, now free again. Kept so
   * that asking again (a retried activity, a duplicate delete) gets the same partner back.
   */
  released?: string;
}

/** How long past the usual a listed positive payment is kept for its workflow to ask (a late webhook or poll). */
const LISTED_KEEP_MS = 86_400_000;

export interface Arbitration {
  answer: AdjustmentMatch;
  /** A waiting negative payment that this positive payment just paired with: signal it. */
  wake?: { negativePaymentId: string; positivePaymentId: string };
  /**
   * An earlier positive payment that this negative payment just paired with: signal it too, since it may still be
   * posting (it then reverses its own posting; both sides use the same reversal key, so the ERP sees one reversal).
   */
  tell?: { positivePaymentId: string; negativePaymentId: string };
}

const fact = (e: MatchLedgerEntry): PaymentFact => ({
  id: e.id,
  clientId: 'customer',
  amountMinor: e.amountMinor,
  currency: e.currency,
  atMs: e.atMs,
  paired: e.pairedWith !== null,
});

/**
 * How many paired entries (two to a pair, or a released negative payment) past the usual horizon a customer's ledger
 * keeps: the newest 200 pairs, a few tens of kilobytes of state carried across continue-as-new. A paired
 * positive payment dropped from the ledger came back from the portal's list as unpaired, and a later negative payment
 * of the same amount claimed it a second time; a voided negative payment must still find the partner it reversed.
 */
export const PAIRED_ENTRIES_KEPT = 400;

const remembered = (e: MatchLedgerEntry) => e.pairedWith !== null || !!e.released;

/**
 * Drops settled entries that no new payment could pair with any more. `keepPairs` (customer revision 4): paired
 * entries stay, the newest PAIRED_ENTRIES_KEPT of them past the horizon, so they are never taken for unpaired ones.
 */
export function pruneMatchLedger(ledger: MatchLedgerEntry[], nowMs: number, windowMs: number, keepPairs = false): void {
  const keepAfter = nowMs - 2 * windowMs;
  const old = (e: MatchLedgerEntry) => !e.waiting && e.atMs < keepAfter - (e.listed ? LISTED_KEEP_MS : 0);
  const kept = keepPairs
    ? new Set(
        ledger
          .filter((e) => old(e) && remembered(e))
          .sort((a, b) => b.atMs - a.atMs || (a.id < b.id ? -1 : 1))
          .slice(0, PAIRED_ENTRIES_KEPT),
      )
    : new Set<MatchLedgerEntry>();
  for (let i = ledger.length - 1; i >= 0; i--) {
    const e = ledger[i]!;
    if (old(e) && !kept.has(e)) ledger.splice(i, 1);
  }
}

/**
 * A negative payment voided in the portal: it pairs with nothing any more, and its positive partner, if it had one,
 * is free again (no longer counted as paired). Returns that partner, the same on every ask.
 */
export function releaseNegative(ledger: MatchLedgerEntry[], negativePaymentId: string): string | null {
  const entry = ledger.find((e) => e.id === negativePaymentId);
  if (!entry || entry.amountMinor >= 0) return null;
  if (entry.released !== undefined) return entry.released || null;
  const partnerId = entry.pairedWith;
  const partner = partnerId ? ledger.find((e) => e.id === partnerId) : undefined;
  if (partner?.pairedWith === entry.id) {
    partner.pairedWith = null;
    delete partner.listed;
  }
  entry.pairedWith = null;
  entry.waiting = false;
  entry.refund = false;
  entry.released = partnerId ?? '';
  return partnerId;
}

/** Publishes a positive payment's pairing until it asks (see `listed`). */
export function listPairedPositive(ledger: MatchLedgerEntry[], positivePaymentId: string): void {
  const e = ledger.find((x) => x.id === positivePaymentId);
  if (e) e.listed = true;
}

/** Positive payments paired while their workflow may not have run yet: they ask the arbiter when they do. */
export function listedPositives(ledger: readonly MatchLedgerEntry[]): string[] {
  return ledger.filter((e) => e.listed).map((e) => e.id);
}

/** Positive payments read from the portal that the ledger does not hold yet (they did not offer themselves). */
export function recordKnownPayments(ledger: MatchLedgerEntry[], known: readonly MatchablePayment[]): void {
  for (const p of known) {
    if (p.amountMinor <= 0 || ledger.some((e) => e.id === p.paymentId)) continue;
    ledger.push({ id: p.paymentId, amountMinor: p.amountMinor, currency: p.currency, atMs: p.atMs, pairedWith: null, waiting: false, refund: false });
  }
}

export function arbitrateAdjustment(ledger: MatchLedgerEntry[], p: MatchablePayment, windowMs: number, nowMs: number): Arbitration {
  let entry = ledger.find((e) => e.id === p.paymentId);
  if (!entry) {
    entry = { id: p.paymentId, amountMinor: p.amountMinor, currency: p.currency, atMs: p.atMs, pairedWith: null, waiting: false, refund: false };
    ledger.push(entry);
  }
  // Asking again (a retried activity, a second run, a listed positive payment) gets the same answer.
  if (entry.pairedWith) {
    delete entry.listed;
    return { answer: { decision: 'adjustment', partnerPaymentId: entry.pairedWith } };
  }
  if (entry.refund) return { answer: { decision: 'refund' } };

  if (entry.amountMinor < 0) {
    const others = ledger.filter((e) => e.id !== entry!.id && e.amountMinor > 0).map(fact);
    const d = matchNegativePayment(fact(entry), others, { windowMs, nowMs });
    switch (d.kind) {
      case 'adjustment':
        pair(ledger, entry, d.partnerId);
        return { answer: { decision: 'adjustment', partnerPaymentId: d.partnerId }, tell: { positivePaymentId: d.partnerId, negativePaymentId: entry.id } };
      case 'wait':
        entry.waiting = true;
        return { answer: { decision: 'wait', untilMs: d.untilMs } };
      case 'refund':
        entry.waiting = false;
        entry.refund = true;
        return { answer: { decision: 'refund' } };
      case 'ambiguous':
        return { answer: { decision: 'ambiguous', candidates: d.candidateIds } };
    }
  }

  // A positive payment: does a negative one wait for exactly this partner?
  const waiting = ledger.filter((e) => e.waiting && !e.pairedWith && e.amountMinor === -entry!.amountMinor);
  waiting.sort((a, b) => Math.abs(a.atMs - entry!.atMs) - Math.abs(b.atMs - entry!.atMs));
  for (const negative of waiting) {
    const positives = ledger.filter((e) => e.amountMinor > 0).map(fact);
    const d = matchNegativePayment(fact(negative), positives, { windowMs, nowMs });
    if (d.kind === 'adjustment' && d.partnerId === entry.id) {
      pair(ledger, negative, entry.id);
      return {
        answer: { decision: 'adjustment', partnerPaymentId: negative.id },
        wake: { negativePaymentId: negative.id, positivePaymentId: entry.id },
      };
    }
  }
  return { answer: { decision: 'none' } };
}

function pair(ledger: MatchLedgerEntry[], negative: MatchLedgerEntry, positiveId: string) {
  const positive = ledger.find((e) => e.id === positiveId)!;
  negative.pairedWith = positiveId;
  negative.waiting = false;
  positive.pairedWith = negative.id;
}

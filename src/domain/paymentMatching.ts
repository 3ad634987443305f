/**
 * Refund versus adjustment for a negative portal payment.
 *
 * A negative payment is an **adjustment** when a positive payment of exactly the same absolute amount and currency, from
 * the same client, created within `windowMs` before or after it, is its partner: the pair nets out. Without a partner it is
 * a **refund** (posted to the customer, unapplied) once the window after it has passed; until then the decision is
 * **wait** (a partner may still arrive). Several equally good partners are **ambiguous**: finance decides.
 *
 * A candidate is eligible when it is another payment, active (not voided, failed or deleted), positive, not already paired
 * with another negative payment, same client, same currency, amount = −negative amount, and |Δt| ≤ window.
 *
 * Tie-break, deterministic and never arbitrary:
 *   1. a candidate paid to one of the invoices the negative payment names beats one that is not;
 *   2. then the candidate closest in time wins;
 *   3. candidates still equal on both are ambiguous: ids are never used to pick one.
 * A decision is taken on what is known when asked: once a partner exists the answer is adjustment, and a payment arriving
 * later does not reopen it (finance can still override).
 */

export interface PaymentFact {
  id: string;
  clientId: string;
  amountMinor: number;
  currency: string;
  /** When the portal created the payment, epoch milliseconds. */
  atMs: number;
  /** Already the partner of another negative payment. */
  paired?: boolean;
  /** False for voided, failed or deleted payments. Default true. */
  active?: boolean;
  /** Invoices the payment was applied to (or, for a negative payment, refers to). */
  invoiceNumbers?: readonly string[];
}

export interface MatchOptions {
  windowMs: number;
  nowMs: number;
}

export type MatchDecision =
  | { kind: 'adjustment'; partnerId: string }
  | { kind: 'refund' }
  | { kind: 'wait'; untilMs: number }
  | { kind: 'ambiguous'; candidateIds: string[] };

export function matchNegativePayment(
  negative: PaymentFact,
  candidates: readonly PaymentFact[],
  opts: MatchOptions,
): MatchDecision {
  if (!Number.isSafeInteger(negative.amountMinor) || negative.amountMinor >= 0) {
    throw new RangeError(`payment ${negative.id} is not negative (${negative.amountMinor}); only negative payments are matched`);
  }
  if (!Number.isFinite(opts.windowMs) || opts.windowMs < 0) throw new RangeError(`window must be >= 0 ms, got ${opts.windowMs}`);

  const eligible = candidates.filter(
    (c) => partnerProblem(negative, c) === null && Math.abs(c.atMs - negative.atMs) <= opts.windowMs,
  );
  if (eligible.length === 0) {
    const untilMs = negative.atMs + opts.windowMs;
    return opts.nowMs < untilMs ? { kind: 'wait', untilMs } : { kind: 'refund' };
  }
  const named = new Set(negative.invoiceNumbers ?? []);
  const rank = (c: PaymentFact) => ({
    sharesInvoice: (c.invoiceNumbers ?? []).some((n) => named.has(n)) ? 0 : 1,
    distance: Math.abs(c.atMs - negative.atMs),
  });
  const ranked = eligible.map((c) => ({ c, r: rank(c) }));
  ranked.sort((a, b) => a.r.sharesInvoice - b.r.sharesInvoice || a.r.distance - b.r.distance);
  const best = ranked[0]!.r;
  const top = ranked.filter((x) => x.r.sharesInvoice === best.sharesInvoice && x.r.distance === best.distance);
  if (top.length === 1) return { kind: 'adjustment', partnerId: top[0]!.c.id };
  return { kind: 'ambiguous', candidateIds: top.map((x) => x.c.id).sort() };
}

/**
 * Why `partner` cannot be the adjustment partner of `negative`, or null when it can (the time window aside: finance may
 * pair payments further apart). Used to validate finance's choice.
 */
export function partnerProblem(negative: PaymentFact, partner: PaymentFact): string | null {
  if (partner.id === negative.id) return 'a payment cannot be its own partner';
  if (partner.active === false) return `payment ${partner.id} is not active`;
  if (partner.paired) return `payment ${partner.id} is already paired`;
  if (partner.clientId !== negative.clientId) return `payment ${partner.id} belongs to another client`;
  if (partner.currency !== negative.currency) return `payment ${partner.id} is in ${partner.currency}, not ${negative.currency}`;
  if (partner.amountMinor !== -negative.amountMinor) {
    return `payment ${partner.id} is ${partner.amountMinor}, not ${-negative.amountMinor}`;
  }
  return null;
}

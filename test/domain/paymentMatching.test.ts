import { PaymentFact, matchNegativePayment, partnerProblem } from '../../src/domain/paymentMatching';
import { mulberry32, randomInt } from '../support/prng';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2025, 2, 10, 12, 0, 0);

const neg: PaymentFact = { id: 'n1', clientId: 'c1', amountMinor: -5000, currency: 'USD', atMs: T0 };
const pos = (id: string, deltaMs: number, over: Partial<PaymentFact> = {}): PaymentFact => ({
  id,
  clientId: 'c1',
  amountMinor: 5000,
  currency: 'USD',
  atMs: T0 + deltaMs,
  ...over,
});
const opts = { windowMs: 24 * HOUR, nowMs: T0 + 25 * HOUR };

describe('matchNegativePayment', () => {
  it('pairs with a positive payment of the same amount that came before', () => {
    expect(matchNegativePayment(neg, [pos('p1', -2 * HOUR)], opts)).toEqual({ kind: 'adjustment', partnerId: 'p1' });
  });

  it('pairs with one that came after', () => {
    expect(matchNegativePayment(neg, [pos('p1', 3 * HOUR)], opts)).toEqual({ kind: 'adjustment', partnerId: 'p1' });
  });

  it('pairs at exactly the window edge, not beyond it', () => {
    expect(matchNegativePayment(neg, [pos('p1', -24 * HOUR)], opts).kind).toBe('adjustment');
    expect(matchNegativePayment(neg, [pos('p1', -24 * HOUR - 1)], opts)).toEqual({ kind: 'refund' });
  });

  it.each<[string, Partial<PaymentFact>]>([
    ['another client', { clientId: 'c2' }],
    ['another currency', { currency: 'CAD' }],
    ['another amount', { amountMinor: 5001 }],
    ['a negative amount', { amountMinor: -5000 }],
    ['already paired', { paired: true }],
    ['voided', { active: false }],
    ['the payment itself', { id: 'n1' }],
  ])('never pairs with %s', (_label, over) => {
    expect(matchNegativePayment(neg, [pos('p1', HOUR, over)], opts)).toEqual({ kind: 'refund' });
  });

  it('waits while the window after the negative payment is open', () => {
    const early = { ...opts, nowMs: T0 + HOUR };
    expect(matchNegativePayment(neg, [], early)).toEqual({ kind: 'wait', untilMs: T0 + 24 * HOUR });
    expect(matchNegativePayment(neg, [pos('p1', HOUR, { amountMinor: 4999 })], early).kind).toBe('wait');
  });

  it('becomes a refund once the window has passed (the boundary itself counts as passed)', () => {
    expect(matchNegativePayment(neg, [], { ...opts, nowMs: T0 + 24 * HOUR })).toEqual({ kind: 'refund' });
  });

  it('decides as soon as a partner exists, even with the window still open', () => {
    expect(matchNegativePayment(neg, [pos('p1', -MIN)], { ...opts, nowMs: T0 })).toEqual({ kind: 'adjustment', partnerId: 'p1' });
  });

  it('prefers the candidate closest in time', () => {
    const d = matchNegativePayment(neg, [pos('far', -5 * HOUR), pos('near', 2 * HOUR), pos('mid', -3 * HOUR)], opts);
    expect(d).toEqual({ kind: 'adjustment', partnerId: 'near' });
  });

  it('prefers a candidate paid to an invoice the negative payment names, over a closer one', () => {
    const n = { ...neg, invoiceNumbers: ['INV-7'] };
    const d = matchNegativePayment(n, [pos('close', MIN, { invoiceNumbers: ['INV-1'] }), pos('same', 5 * HOUR, { invoiceNumbers: ['INV-7'] })], opts);
    expect(d).toEqual({ kind: 'adjustment', partnerId: 'same' });
  });

  it('is ambiguous when candidates are equally good, listing them sorted', () => {
    const d = matchNegativePayment(neg, [pos('p2', HOUR), pos('p1', -HOUR), pos('p3', 5 * HOUR)], opts);
    expect(d).toEqual({ kind: 'ambiguous', candidateIds: ['p1', 'p2'] });
  });

  it('is ambiguous for two candidates at the same instant', () => {
    expect(matchNegativePayment(neg, [pos('b', 0), pos('a', 0)], opts)).toEqual({ kind: 'ambiguous', candidateIds: ['a', 'b'] });
  });

  it('does not depend on the order candidates are listed in', () => {
    const rnd = mulberry32(77);
    for (let i = 0; i < 300; i++) {
      const cands = Array.from({ length: randomInt(rnd, 1, 6) }, (_, k) =>
        pos(`p${k}`, randomInt(rnd, -30, 30) * HOUR, {
          amountMinor: rnd() < 0.7 ? 5000 : 4000,
          invoiceNumbers: rnd() < 0.3 ? ['INV-7'] : [],
        }),
      );
      const n = { ...neg, invoiceNumbers: rnd() < 0.5 ? ['INV-7'] : [] };
      const a = matchNegativePayment(n, cands, opts);
      const b = matchNegativePayment(n, [...cands].reverse(), opts);
      expect(b).toEqual(a);
    }
  });

  it('rejects a payment that is not negative and a negative window', () => {
    expect(() => matchNegativePayment({ ...neg, amountMinor: 5000 }, [], opts)).toThrow(/not negative/);
    expect(() => matchNegativePayment(neg, [], { ...opts, windowMs: -1 })).toThrow(/window/);
  });
});

describe('partnerProblem (validating finance overrides)', () => {
  it('accepts a partner outside the window but otherwise right', () => {
    expect(partnerProblem(neg, pos('p1', 30 * 24 * HOUR))).toBeNull();
  });

  it('explains why a partner does not fit', () => {
    expect(partnerProblem(neg, pos('p1', 0, { amountMinor: 4900 }))).toBe('payment p1 is 4900, not 5000');
    expect(partnerProblem(neg, pos('p1', 0, { currency: 'EUR' }))).toBe('payment p1 is in EUR, not USD');
    expect(partnerProblem(neg, pos('p1', 0, { clientId: 'c9' }))).toBe('payment p1 belongs to another client');
  });
});

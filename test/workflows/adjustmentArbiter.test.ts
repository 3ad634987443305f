import { arbitrateAdjustment, PAIRED_ENTRIES_KEPT, pruneMatchLedger, recordKnownPayments, releaseNegative, type MatchLedgerEntry } from '../../workflows/adjustmentArbiter';

// The customer workflow's pairing ledger, without the engine: what it keeps past the window and what a void releases.

const WINDOW = 3000;
const entry = (id: string, amountMinor: number, atMs: number, pairedWith: string | null = null): MatchLedgerEntry => ({
  id,
  amountMinor,
  currency: 'USD',
  atMs,
  pairedWith,
  waiting: false,
  refund: false,
});
const pair = (n: number, atMs: number) => [entry(`p${n}`, 4400, atMs, `n${n}`), entry(`n${n}`, -4400, atMs, `p${n}`)];

describe('adjustment arbiter ledger', () => {
  it('a paired positive payment read again from the portal past the window is not claimed by a second negative payment', () => {
    const ledger = pair(1, 0);
    const now = 10 * WINDOW;
    pruneMatchLedger(ledger, now, WINDOW, true);
    recordKnownPayments(ledger, [{ paymentId: 'p1', amountMinor: 4400, currency: 'USD', atMs: 0 }]);
    const second = arbitrateAdjustment(ledger, { paymentId: 'n2', amountMinor: -4400, currency: 'USD', atMs: 1000 }, WINDOW, now);
    expect(second.answer).toEqual({ decision: 'refund' });
  });

  it('keeps at most PAIRED_ENTRIES_KEPT paired entries past the horizon, the newest pairs', () => {
    const ledger = Array.from({ length: PAIRED_ENTRIES_KEPT }, (_, i) => pair(i, i * 10)).flat();
    pruneMatchLedger(ledger, 1_000_000, WINDOW, true);
    expect(ledger).toHaveLength(PAIRED_ENTRIES_KEPT);
    expect(ledger.some((e) => e.id === `n${PAIRED_ENTRIES_KEPT - 1}`)).toBe(true);
    expect(ledger.some((e) => e.id === 'n0')).toBe(false);
    // An unpaired entry past the horizon goes as before.
    const unpaired = [entry('p', 100, 0)];
    pruneMatchLedger(unpaired, 1_000_000, WINDOW, true);
    expect(unpaired).toEqual([]);
  });

  it('a voided negative payment releases its partner, with the same answer on every ask', () => {
    const ledger = pair(1, 0);
    ledger[0]!.listed = true;
    expect(releaseNegative(ledger, 'n1')).toBe('p1');
    expect(ledger[0]).toEqual(expect.objectContaining({ id: 'p1', pairedWith: null }));
    expect(ledger[0]!.listed).toBeUndefined();
    expect(releaseNegative(ledger, 'n1')).toBe('p1');
    expect(releaseNegative(ledger, 'p1')).toBeNull(); // only negative payments are released
    expect(releaseNegative(ledger, 'unknown')).toBeNull();
    // The released positive payment can pair again.
    const next = arbitrateAdjustment(ledger, { paymentId: 'n2', amountMinor: -4400, currency: 'USD', atMs: 500 }, WINDOW, 1000);
    expect(next.answer).toEqual({ decision: 'adjustment', partnerPaymentId: 'p1' });
  });
});

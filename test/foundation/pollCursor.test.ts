import type { InPayment } from '../../src/adapters/invoiceNinja';
import { advance, paymentVersion } from '../../activities/pollCursor';

// The portal watcher's cursor: Invoice Ninja's updated_at has whole seconds, so a row changed again within the second
// it was handed on must still be seen as new.

const usd = (minor: number) => ({ minor, currency: 'USD' });
const payment = (over: Partial<InPayment> = {}): InPayment => ({
  id: 'p1',
  clientId: 'c1',
  clientContactId: '',
  number: '0001',
  statusId: 4,
  status: 'completed',
  currency: 'USD',
  amount: usd(1000),
  applied: usd(1000),
  refunded: usd(0),
  unapplied: usd(0),
  date: '2026-11-28',
  typeId: '',
  gatewayTypeId: '',
  isManual: true,
  isDeleted: false,
  isArchived: false,
  transactionReference: '',
  privateNotes: '',
  invoices: [{ invoiceId: 'i1', amount: usd(1000), refunded: usd(0) }],
  createdAt: 100,
  updatedAt: 100,
  ...over,
});

describe('portal poll cursor', () => {
  it('hands a payment on once, and again when it is voided or refunded within the same second', () => {
    const start = { since: 0, seen: [] };
    const first = advance(start, [payment()], paymentVersion);
    expect(first.fresh.map((p) => p.id)).toEqual(['p1']);
    expect(first.next.since).toBe(100);

    // Read again unchanged: nothing new.
    expect(advance(first.next, [payment()], paymentVersion).fresh).toEqual([]);

    // Voided in the same second: new.
    const voided = advance(first.next, [payment({ isDeleted: true, statusId: 5, status: 'cancelled' })], paymentVersion);
    expect(voided.fresh.map((p) => p.id)).toEqual(['p1']);
    // …and then remembered in both versions at that second.
    expect(advance(voided.next, [payment({ isDeleted: true, statusId: 5, status: 'cancelled' })], paymentVersion).fresh).toEqual([]);

    // Refunded in part in the same second: new.
    const refunded = payment({ refunded: usd(400), invoices: [{ invoiceId: 'i1', amount: usd(1000), refunded: usd(400) }] });
    expect(advance(first.next, [refunded], paymentVersion).fresh.map((p) => p.id)).toEqual(['p1']);
  });

  it('moves past the newest second and forgets what it remembered before it', () => {
    const first = advance({ since: 0, seen: [] }, [payment(), payment({ id: 'p2', updatedAt: 101 })], paymentVersion);
    expect(first.fresh.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(first.next.since).toBe(101);
    expect(first.next.seen).toHaveLength(1);
    // A row at an older second than the cursor is not read again by the portal (>= since), and not handed on.
    expect(advance(first.next, [payment({ id: 'p2', updatedAt: 101 })], paymentVersion).fresh).toEqual([]);
  });
});

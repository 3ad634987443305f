import {
  mirrorReference,
  parseMirrorReference,
  planMirror,
  type ErpCredit,
  type MirroredPayment,
  type MirrorInvoice,
  type MirrorPolicy,
} from '../../src/domain/erpMirror';

const credit = (entryNumber: number, amountMinor: number, extra: Partial<ErpCredit> = {}): ErpCredit => ({
  entryNumber,
  documentType: 'Payment',
  documentNumber: `PMT${entryNumber}`,
  postingDate: '2025-03-10',
  amountMinor,
  open: false,
  ...extra,
});
const heal = (invoiceNumber: string, invoiceEntryNumber: number, amountMinor: number): MirrorInvoice => ({
  invoiceNumber,
  invoiceEntryNumber,
  decision: { kind: 'heal_portal', amountMinor },
});
const excess = (invoiceNumber: string, invoiceEntryNumber: number, amountMinor: number): MirrorInvoice => ({
  invoiceNumber,
  invoiceEntryNumber,
  decision: { kind: 'heal_erp', amountMinor },
});
const mirrored = (paymentId: string, reference: string, applied: Record<string, number>, extra: Partial<MirroredPayment> = {}): MirroredPayment => ({
  paymentId,
  reference,
  live: true,
  createdAt: 1,
  applied,
  ...extra,
});
const policy = (p: Partial<MirrorPolicy> = {}): MirrorPolicy => ({ attributeRemainder: false, reducible: () => true, today: '2025-03-31', ...p });

describe('mirror references', () => {
  it('are erp:<entry> for the first application and erp:<entry>.<n> after', () => {
    expect(mirrorReference(17)).toBe('erp:17');
    expect(mirrorReference(17, 3)).toBe('erp:17.3');
    expect(parseMirrorReference('erp:17')).toEqual({ kind: 'entry', entryNumber: 17, generation: 1 });
    expect(parseMirrorReference('erp:17.3')).toEqual({ kind: 'entry', entryNumber: 17, generation: 3 });
    expect(parseMirrorReference('paid-at-posting:PS-INV1')).toEqual({ kind: 'paid_at_posting', invoiceNumber: 'PS-INV1' });
    expect(parseMirrorReference('ch_123')).toBeNull();
    expect(parseMirrorReference('erp:x')).toBeNull();
    expect(() => mirrorReference(0)).toThrow(RangeError);
    expect(() => mirrorReference(5, 0)).toThrow(RangeError);
  });
});

describe('planMirror', () => {
  it('records a partial ERP payment under its entry, dated like the entry', () => {
    const plan = planMirror([heal('INV1', 1, 4000)], [credit(5, 4000)], [], policy());
    expect(plan.records).toEqual([
      expect.objectContaining({ reference: 'erp:5', entryNumber: 5, date: '2025-03-10', amountMinor: 4000, allocations: [{ invoiceNumber: 'INV1', amountMinor: 4000 }] }),
    ]);
    expect(plan.removals).toEqual([]);
    expect(plan.outcomes[0]).toMatchObject({ recordedMinor: 4000, unresolvedMinor: 0 });
  });

  it('mirrors one ERP payment over two invoices as one portal payment', () => {
    const plan = planMirror([heal('INV2', 8, 2500), heal('INV1', 3, 7500)], [credit(12, 10000)], [], policy());
    expect(plan.records).toHaveLength(1);
    expect(plan.records[0]).toMatchObject({
      reference: 'erp:12',
      amountMinor: 10000,
      allocations: [
        { invoiceNumber: 'INV1', amountMinor: 7500 },
        { invoiceNumber: 'INV2', amountMinor: 2500 },
      ],
    });
  });

  it('never records more than the balances differ, whatever the entries say', () => {
    const plan = planMirror([heal('INV1', 1, 3000)], [credit(5, 10000), credit(6, 10000)], [], policy());
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([['erp:5', 3000]]);
  });

  it('takes closed entries before open ones (an open entry may be money just unapplied)', () => {
    const plan = planMirror([heal('INV1', 1, 8000)], [credit(5, 3000, { open: true }), credit(9, 8000)], [], policy());
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([['erp:9', 8000]]);
  });

  it('counts what an entry already mirrors, and keys its next application with the next generation', () => {
    // Entry 5 (100.00): 60.00 already mirrored, an earlier generation deleted after an unapplication.
    const existing = [mirrored('p1', 'erp:5', { INV1: 6000 }), mirrored('p0', 'erp:5.2', {}, { live: false })];
    const plan = planMirror([heal('INV2', 2, 9000)], [credit(5, 10000), credit(7, 5000)], existing, policy());
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([
      ['erp:5.3', 4000],
      ['erp:7', 5000],
    ]);
  });

  it('leaves what no entry explains unresolved for the watcher, and keys it by the invoice entry for a window sync', () => {
    const watch = planMirror([heal('INV1', 4, 2000)], [], [], policy());
    expect(watch.records).toEqual([]);
    expect(watch.outcomes[0]).toMatchObject({ recordedMinor: 0, unresolvedMinor: 2000 });

    const window = planMirror([heal('INV1', 4, 2000)], [credit(5, 500)], [mirrored('m', 'erp:4', { INV1: 100 })], policy({ attributeRemainder: true }));
    expect(window.records.map((r) => [r.reference, r.amountMinor, r.date])).toEqual([
      ['erp:4.2', 1500, '2025-03-31'],
      ['erp:5', 500, '2025-03-10'],
    ]);
    expect(window.outcomes[0]).toMatchObject({ recordedMinor: 2000, unresolvedMinor: 0 });
  });

  it('treats the paid-at-posting payment as the mirror of the payment entry posted with the invoice', () => {
    const atPosting = credit(3, 2000, { documentNumber: 'INV1' });
    const plan = planMirror([heal('INV2', 9, 1000)], [atPosting, credit(11, 1000)], [mirrored('pp', 'paid-at-posting:INV1', { INV1: 2000 })], policy());
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([['erp:11', 1000]]);
  });

  it('deletes a mirrored payment the ERP unapplied in full, and refunds part of one that spans invoices', () => {
    const whole = planMirror([excess('INV1', 1, 3000)], [credit(5, 3000, { open: true })], [mirrored('p5', 'erp:5', { INV1: 3000 })], policy());
    expect(whole.removals).toEqual([{ paymentId: 'p5', reference: 'erp:5', entryNumber: 5, whole: true, allocations: [{ invoiceNumber: 'INV1', amountMinor: 3000 }], amountMinor: 3000 }]);

    const part = planMirror([excess('INV1', 1, 3000)], [credit(5, 5000, { open: true })], [mirrored('p5', 'erp:5', { INV1: 3000, INV2: 2000 })], policy());
    expect(part.removals).toEqual([expect.objectContaining({ paymentId: 'p5', whole: false, amountMinor: 3000 })]);
  });

  it('reduces the newest reducible mirrored payment first and reports what none explains', () => {
    const payments = [
      mirrored('old', 'erp:5', { INV1: 2000 }, { createdAt: 10 }),
      mirrored('new', 'erp:6', { INV1: 1500 }, { createdAt: 20 }),
      mirrored('kept', 'erp:7', { INV1: 5000 }, { createdAt: 30 }),
    ];
    const plan = planMirror([excess('INV1', 1, 4500)], [credit(5, 2000), credit(6, 1500), credit(7, 5000)], payments, policy({ reducible: (p) => p.paymentId !== 'kept' }));
    expect(plan.removals.map((r) => [r.paymentId, r.amountMinor, r.whole])).toEqual([
      ['new', 1500, true],
      ['old', 2000, true],
    ]);
    expect(plan.outcomes[0]).toMatchObject({ removedMinor: 3500, unresolvedMinor: 1000 });
  });

  it('reduces a payment whose entry is open again before newer ones still applied in full (the one unapplied)', () => {
    // P1 (30.00) then P2 (50.00) mirrored; P1 unapplied in the ERP: its entry is open again, P2's is still closed.
    const payments = [mirrored('p1', 'erp:5', { INV1: 3000 }, { createdAt: 10 }), mirrored('p2', 'erp:6', { INV1: 5000 }, { createdAt: 20 })];
    const plan = planMirror([excess('INV1', 1, 3000)], [credit(5, 3000, { open: true }), credit(6, 5000)], payments, policy());
    expect(plan.removals.map((r) => [r.paymentId, r.amountMinor, r.whole])).toEqual([['p1', 3000, true]]);
    // Both open: the newest first, as before.
    const both = planMirror([excess('INV1', 1, 3000)], [credit(5, 3000, { open: true }), credit(6, 5000, { open: true })], payments, policy());
    expect(both.removals.map((r) => [r.paymentId, r.amountMinor, r.whole])).toEqual([['p2', 3000, false]]);
  });

  it('never reduces portal payments that did not come from the ERP (they are not in the mirrored list)', () => {
    const plan = planMirror([excess('INV1', 1, 5000)], [], [], policy());
    expect(plan.removals).toEqual([]);
    expect(plan.outcomes[0].unresolvedMinor).toBe(5000);
  });

  it('syncs only the selected entries', () => {
    const plan = planMirror([heal('INV1', 1, 5000)], [credit(5, 2000), credit(6, 3000)], [], policy({ onlyEntries: new Set([6]), attributeRemainder: true }));
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([['erp:6', 3000]]);
    expect(plan.outcomes[0]).toMatchObject({ recordedMinor: 3000, unresolvedMinor: 2000 });
  });

  it('does nothing for invoices in line, deferred or reported', () => {
    const plan = planMirror(
      [
        { invoiceNumber: 'A', invoiceEntryNumber: 1, decision: { kind: 'in_sync' } },
        { invoiceNumber: 'B', invoiceEntryNumber: 2, decision: { kind: 'deferred', detail: 'fee in flight' } },
        { invoiceNumber: 'C', invoiceEntryNumber: 3, decision: { kind: 'report', reason: 'currency_mismatch', detail: 'EUR vs USD' } },
      ],
      [credit(5, 1000)],
      [],
      policy({ attributeRemainder: true }),
    );
    expect(plan.records).toEqual([]);
    expect(plan.removals).toEqual([]);
    expect(plan.outcomes.map((o) => o.recordedMinor + o.removedMinor + o.unresolvedMinor)).toEqual([0, 0, 0]);
  });

  it('refuses credit entries that credit nothing', () => {
    expect(() => planMirror([], [credit(5, 0)], [], policy())).toThrow(RangeError);
  });

  it('replaying a carried-out plan finds nothing to do (the balances agree afterwards)', () => {
    const first = planMirror([heal('INV1', 1, 4000)], [credit(5, 4000)], [], policy({ attributeRemainder: true }));
    const after = first.records.map((r) => mirrored(`p-${r.reference}`, r.reference, Object.fromEntries(r.allocations.map((a) => [a.invoiceNumber, a.amountMinor]))));
    const replay = planMirror([{ invoiceNumber: 'INV1', invoiceEntryNumber: 1, decision: { kind: 'in_sync' } }], [credit(5, 4000)], after, policy({ attributeRemainder: true }));
    expect(replay.records).toEqual([]);
    expect(replay.removals).toEqual([]);
  });
});

describe('planMirror: which credit entry explains which invoice', () => {
  it('takes the entry changed together with the invoice, never one changed together with another invoice only', () => {
    const credits = [
      credit(3, 3000, { comodified: ['OTHER'] }), // applied to another invoice: not ours
      credit(4, 1800, { comodified: ['INV1'] }),
      credit(5, 5000), // nothing read changed with it
    ];
    const plan = planMirror([heal('INV1', 1, 1800)], credits, [], policy());
    expect(plan.records.map((r) => [r.reference, r.amountMinor])).toEqual([['erp:4', 1800]]);
    const more = planMirror([heal('INV1', 1, 4000)], credits, [], policy());
    expect(more.records.map((r) => [r.reference, r.amountMinor])).toEqual([
      ['erp:4', 1800],
      ['erp:5', 2200],
    ]);
  });

  it('a payment over several invoices is linked to each of them', () => {
    const plan = planMirror([heal('A', 1, 600), heal('B', 2, 400)], [credit(9, 1000, { comodified: ['A', 'B'] }), credit(7, 1000)], [], policy());
    expect(plan.records.map((r) => [r.reference, r.allocations])).toEqual([
      [
        'erp:9',
        [
          { invoiceNumber: 'A', amountMinor: 600 },
          { invoiceNumber: 'B', amountMinor: 400 },
        ],
      ],
    ]);
  });
});

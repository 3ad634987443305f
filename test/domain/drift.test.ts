import { DriftInput, classifyDrift, driftAttention } from '../../src/domain/drift';
import { mulberry32, randomInt } from '../support/prng';

const base = (erp: number, portal: number, over: Partial<DriftInput> = {}): DriftInput => ({
  currency: 'USD',
  erpRemainingMinor: erp,
  portal: { currency: 'USD', balanceMinor: portal },
  ...over,
});

describe('classifyDrift', () => {
  it('is in sync when both balances agree', () => {
    expect(classifyDrift(base(4000, 4000))).toEqual({ kind: 'in_sync' });
    expect(classifyDrift(base(0, 0))).toEqual({ kind: 'in_sync' });
  });

  it('heals the portal with the payment the ERP has and the portal lacks', () => {
    expect(classifyDrift(base(2500, 10000))).toEqual({ kind: 'heal_portal', amountMinor: 7500 });
    expect(classifyDrift(base(0, 10000))).toEqual({ kind: 'heal_portal', amountMinor: 10000 });
  });

  it('does not heal what is already on its way to the portal', () => {
    expect(classifyDrift(base(2500, 10000, { inFlightToPortalMinor: 7500 }))).toEqual({ kind: 'in_sync' });
    expect(classifyDrift(base(2500, 10000, { inFlightToPortalMinor: 5000 }))).toEqual({ kind: 'heal_portal', amountMinor: 2500 });
  });

  it('reports (heal_erp) a portal payment the ERP does not show', () => {
    const d = classifyDrift(base(10000, 4000));
    expect(d).toEqual({ kind: 'heal_erp', amountMinor: 6000 });
    expect(driftAttention(d)).toBe('drift');
  });

  it('does not report a portal payment the payment workflow is posting', () => {
    expect(classifyDrift(base(10000, 4000, { inFlightToErpMinor: 6000 }))).toEqual({ kind: 'in_sync' });
  });

  it('handles payments in flight both ways at once', () => {
    // ERP: 10000 - 3000 posting = 7000; portal: 9000 - 2000 being recorded = 7000.
    expect(classifyDrift(base(10000, 9000, { inFlightToErpMinor: 3000, inFlightToPortalMinor: 2000 }))).toEqual({ kind: 'in_sync' });
  });

  it('reports what it cannot compare', () => {
    expect(classifyDrift(base(100, 100, { portal: null }))).toMatchObject({ kind: 'report', reason: 'not_in_portal' });
    expect(classifyDrift(base(100, 100, { portal: { currency: 'EUR', balanceMinor: 100 } }))).toMatchObject({
      kind: 'report',
      reason: 'currency_mismatch',
    });
    expect(classifyDrift(base(0, 100, { erpCancelled: true }))).toMatchObject({
      kind: 'report',
      reason: 'cancelled_on_one_side',
      detail: 'cancelled in the ERP but not in the portal',
    });
    expect(classifyDrift(base(100, 0, { portal: { currency: 'USD', balanceMinor: 0, cancelled: true } }))).toMatchObject({
      reason: 'cancelled_on_one_side',
    });
    expect(classifyDrift(base(100, 100, { inFlightToErpMinor: 200 }))).toMatchObject({ kind: 'report', reason: 'negative_balance' });
    expect(classifyDrift(base(100, -5))).toMatchObject({ kind: 'report', reason: 'negative_balance' });
  });

  it('treats an invoice cancelled on both sides as in sync', () => {
    expect(classifyDrift(base(0, 0, { erpCancelled: true, portal: { currency: 'USD', balanceMinor: 0, cancelled: true } }))).toEqual({
      kind: 'in_sync',
    });
  });

  it('needs no attention for in_sync and heal_portal', () => {
    expect(driftAttention({ kind: 'in_sync' })).toBeNull();
    expect(driftAttention({ kind: 'heal_portal', amountMinor: 1 })).toBeNull();
    expect(driftAttention({ kind: 'report', reason: 'not_in_portal', detail: '' })).toBe('drift');
  });

  it('healing the portal always brings the balances together (generated cases)', () => {
    const rnd = mulberry32(314);
    for (let i = 0; i < 2000; i++) {
      const total = randomInt(rnd, 0, 100000);
      const erp = randomInt(rnd, 0, total);
      const portal = randomInt(rnd, 0, total);
      const toPortal = randomInt(rnd, 0, portal);
      const toErp = randomInt(rnd, 0, erp);
      const d = classifyDrift(base(erp, portal, { inFlightToPortalMinor: toPortal, inFlightToErpMinor: toErp }));
      const settledPortal = portal - toPortal;
      const settledErp = erp - toErp;
      if (d.kind === 'heal_portal') expect(settledPortal - d.amountMinor).toBe(settledErp);
      else if (d.kind === 'heal_erp') expect(settledErp - d.amountMinor).toBe(settledPortal);
      else expect(d).toEqual({ kind: 'in_sync' });
      if (d.kind === 'heal_portal' || d.kind === 'heal_erp') expect(d.amountMinor).toBeGreaterThan(0);
    }
  });
});

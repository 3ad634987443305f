import { gatewayFeeShare } from '../../src/domain/gatewayFees';

describe('gateway fee share of an allocation', () => {
  const total = 50000;
  it('is zero without fee lines', () => {
    expect(gatewayFeeShare({ allocationMinor: 10000, portalPaidToDateMinor: 10000, portalFeeLinesMinor: 0, erpTotalMinor: total, erpRemainingMinor: total })).toBe(0);
  });
  it('is the fee of a first partial payment', () => {
    // Paid 100.00 + 3.20 fee: the portal shows paid 103.20 with a 3.20 fee line.
    expect(gatewayFeeShare({ allocationMinor: 10320, portalPaidToDateMinor: 10320, portalFeeLinesMinor: 320, erpTotalMinor: total, erpRemainingMinor: total })).toBe(320);
  });
  it('is only the second payment’s own fee once the first is posted (fee to the fee account)', () => {
    // First: 103.20 (fee 3.20) posted as 100.00 applied. Second: 51.75 incl. fee 1.75.
    expect(
      gatewayFeeShare({ allocationMinor: 5175, portalPaidToDateMinor: 10320 + 5175, portalFeeLinesMinor: 320 + 175, erpTotalMinor: total, erpRemainingMinor: total - 10000 }),
    ).toBe(175);
  });
  it('is unaffected by payments made in the ERP (they show on both sides)', () => {
    expect(
      gatewayFeeShare({ allocationMinor: 10320, portalPaidToDateMinor: 20000 + 10320, portalFeeLinesMinor: 320, erpTotalMinor: total, erpRemainingMinor: total - 20000 }),
    ).toBe(320);
  });
  it('never exceeds the allocation or the fee lines, never negative', () => {
    expect(gatewayFeeShare({ allocationMinor: 100, portalPaidToDateMinor: 0, portalFeeLinesMinor: 320, erpTotalMinor: total, erpRemainingMinor: total })).toBe(100);
    expect(gatewayFeeShare({ allocationMinor: 10320, portalPaidToDateMinor: 10320, portalFeeLinesMinor: 320, erpTotalMinor: total, erpRemainingMinor: 0 })).toBe(320);
    expect(gatewayFeeShare({ allocationMinor: 10000, portalPaidToDateMinor: 30000, portalFeeLinesMinor: 320, erpTotalMinor: total, erpRemainingMinor: total })).toBe(0);
  });
});

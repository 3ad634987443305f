import { gatewayFeeShare, pairedGatewayFee } from '../../src/domain/gatewayFees';

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

describe('gateway fee paired with its own payment', () => {
  const online = (id: string, number: string, createdAt: number, firstInvoiceId = 'inv1') => ({ id, number, createdAt, online: true, failed: false, firstInvoiceId });

  it('gives each of two unposted payments its own fee line, in the order they were made', () => {
    const payments = [online('p2', '0012', 100), online('p1', '0011', 100)];
    const input = { invoiceId: 'inv1', paidFeeLinesMinor: [320, 175], payments };
    expect(pairedGatewayFee({ ...input, paymentId: 'p1' })).toBe(320);
    expect(pairedGatewayFee({ ...input, paymentId: 'p2' })).toBe(175);
  });

  it('orders by creation time before number, numbers numerically', () => {
    const input = { invoiceId: 'inv1', paidFeeLinesMinor: [100, 200, 300], payments: [online('a', '10', 50), online('b', '9', 50), online('c', '1', 40)] };
    expect(pairedGatewayFee({ ...input, paymentId: 'c' })).toBe(100);
    expect(pairedGatewayFee({ ...input, paymentId: 'b' })).toBe(200);
    expect(pairedGatewayFee({ ...input, paymentId: 'a' })).toBe(300);
  });

  it('leaves out manual and failed payments and payments whose fee went on another invoice', () => {
    const payments = [
      { ...online('manual', '1', 10), online: false },
      { ...online('failed', '2', 20), failed: true },
      online('other', '3', 30, 'inv2'),
      online('mine', '4', 40),
    ];
    const input = { invoiceId: 'inv1', paidFeeLinesMinor: [250], payments };
    expect(pairedGatewayFee({ ...input, paymentId: 'mine' })).toBe(250);
    expect(pairedGatewayFee({ ...input, paymentId: 'manual' })).toBe(0);
    expect(pairedGatewayFee({ ...input, paymentId: 'other' })).toBe(0);
  });

  it('pairs the listed payments with the first lines when a newer payment added its line after the list was read', () => {
    const input = { invoiceId: 'inv1', paidFeeLinesMinor: [320, 175, 90], payments: [online('p1', '1', 10), online('p2', '2', 20)] };
    expect(pairedGatewayFee({ ...input, paymentId: 'p1' })).toBe(320);
    expect(pairedGatewayFee({ ...input, paymentId: 'p2' })).toBe(175);
  });

  it('cannot tell when there are fewer fee lines than online payments (a gateway payment without a fee)', () => {
    const input = { invoiceId: 'inv1', paidFeeLinesMinor: [250], payments: [online('auto-bill', '1', 10), online('card', '2', 20)] };
    expect(pairedGatewayFee({ ...input, paymentId: 'card' })).toBeNull();
  });
});

import { planPartsReversal, type PostedPayment } from '../../src/domain/reversal';

const fee = (amountMinor: number, account = '65100', balancingAccount = '10200') => ({ account, balancingAccount, amountMinor });
// 100.00 paid to an invoice with 70.00 left: 70.00 applied, 30.00 excess on the fee account.
const overpaid = (over: Partial<PostedPayment> = {}): PostedPayment => ({
  amountMinor: 10000,
  refundedMinor: 0,
  gone: false,
  customerPostedMinor: 7000,
  customerReversedMinor: 0,
  feeLines: [fee(3000)],
  gatewayFeeMinor: 0,
  feeReversedMinor: 0,
  ...over,
});

describe('planPartsReversal', () => {
  it('a void takes back every posted line: the customer part and the fee line on its own account', () => {
    expect(planPartsReversal(overpaid({ gone: true }))).toEqual({ kind: 'reverse', customerMinor: 7000, fees: [fee(3000)], complete: true });
  });

  it('a refund comes off the excess on the fee account first, then the customer part', () => {
    expect(planPartsReversal(overpaid({ refundedMinor: 3000 }))).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(3000)], complete: false });
    expect(planPartsReversal(overpaid({ refundedMinor: 1000 }))).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(1000)], complete: false });
    expect(planPartsReversal(overpaid({ refundedMinor: 4000 }))).toEqual({ kind: 'reverse', customerMinor: 1000, fees: [fee(3000)], complete: false });
    expect(planPartsReversal(overpaid({ refundedMinor: 10000 }))).toEqual({ kind: 'reverse', customerMinor: 7000, fees: [fee(3000)], complete: true });
  });

  it('reverses only what earlier reversals left, and a void after a refund takes the rest', () => {
    expect(planPartsReversal(overpaid({ refundedMinor: 4000, feeReversedMinor: 3000 }))).toEqual({ kind: 'reverse', customerMinor: 1000, fees: [], complete: false });
    expect(planPartsReversal(overpaid({ refundedMinor: 3000, feeReversedMinor: 3000 }))).toEqual({ kind: 'reverse', customerMinor: 0, fees: [], complete: false });
    expect(planPartsReversal(overpaid({ gone: true, refundedMinor: 3000, feeReversedMinor: 3000 }))).toEqual({ kind: 'reverse', customerMinor: 7000, fees: [], complete: true });
    // Two fee lines (gateway fee and excess): a part reversed before is skipped, line by line.
    const two = overpaid({ customerPostedMinor: 6500, feeLines: [fee(500), fee(3000)], feeReversedMinor: 1000, refundedMinor: 2000 });
    expect(planPartsReversal(two)).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(1000)], complete: false });
  });

  it("the portal's gateway fee comes last: a refund of the invoice leaves it, a refund of the whole payment takes it", () => {
    // 80.00 plus a 2.62 card fee, all posted: 80.00 to the customer, 2.62 on the fee account.
    const card = overpaid({ amountMinor: 8262, customerPostedMinor: 8000, feeLines: [fee(262)], gatewayFeeMinor: 262 });
    expect(planPartsReversal({ ...card, refundedMinor: 3000 })).toEqual({ kind: 'reverse', customerMinor: 3000, fees: [], complete: false });
    expect(planPartsReversal({ ...card, refundedMinor: 8000, customerReversedMinor: 3000 })).toEqual({ kind: 'reverse', customerMinor: 5000, fees: [], complete: true });
    expect(planPartsReversal({ ...card, refundedMinor: 8262, customerReversedMinor: 8000 })).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(262)], complete: true });
    expect(planPartsReversal({ ...card, gone: true })).toEqual({ kind: 'reverse', customerMinor: 8000, fees: [fee(262)], complete: true });
    // A card fee and an excess on one fee account: the excess first, the card fee last.
    const both = overpaid({ amountMinor: 10262, feeLines: [fee(3262)], gatewayFeeMinor: 262 });
    expect(planPartsReversal({ ...both, refundedMinor: 3000 })).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(3000)], complete: false });
    expect(planPartsReversal({ ...both, refundedMinor: 10000 })).toEqual({ kind: 'reverse', customerMinor: 7000, fees: [fee(3000)], complete: true });
  });

  it('a refund of what was never posted reverses nothing', () => {
    // No fee account: 70.00 applied, the 30.00 excess only reported.
    const reported = overpaid({ feeLines: [] });
    expect(planPartsReversal({ ...reported, refundedMinor: 3000 })).toEqual({ kind: 'reverse', customerMinor: 0, fees: [], complete: false });
    expect(planPartsReversal({ ...reported, refundedMinor: 5000 })).toEqual({ kind: 'reverse', customerMinor: 2000, fees: [], complete: false });
    expect(planPartsReversal({ ...reported, gone: true })).toEqual({ kind: 'reverse', customerMinor: 7000, fees: [], complete: true });
  });

  it('leaves to finance a refund that could be the never-posted part or the fee', () => {
    // 150.00: 100.00 skipped (closed invoice), 30.00 applied and 20.00 fee.
    const mixed = overpaid({ amountMinor: 15000, customerPostedMinor: 3000, feeLines: [fee(2000)] });
    expect(planPartsReversal({ ...mixed, refundedMinor: 2000 })).toEqual({ kind: 'unclear', detail: expect.stringContaining('never-posted 10000') });
    // Covering both, the order does not matter.
    expect(planPartsReversal({ ...mixed, refundedMinor: 12000 })).toEqual({ kind: 'reverse', customerMinor: 0, fees: [fee(2000)], complete: false });
  });

  it('leaves to finance an ERP that reversed more than the portal took back explains', () => {
    // An older rule reversed the 30.00 refund from the customer: the fee was not taken back, the customer was.
    expect(planPartsReversal(overpaid({ refundedMinor: 3000, customerReversedMinor: 3000 }))).toEqual({ kind: 'unclear', detail: expect.stringContaining('more reversed') });
  });
});

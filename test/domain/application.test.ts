import {
  ApplicationInputError,
  ApplicationSettings,
  ErpInvoiceInfo,
  PaymentToApply,
  isAttentionReason,
  planApplication,
  planOutcome,
  planTotal,
  postableParts,
} from '../../src/domain/application';
import { mulberry32 } from '../support/prng';

const settings: ApplicationSettings = {
  postPaymentsForClosedInvoices: false,
  disallowOverpayments: false,
  journalBatch: 'PORTAL',
};

function inv(number: string, remainingMinor: number, over: Partial<ErpInvoiceInfo> = {}): ErpInvoiceInfo {
  return { number, customerNumber: 'C10000', currency: 'USD', remainingMinor, status: 'open', ...over };
}

function pay(amountMinor: number, allocations: Array<[string, number]>, over: Partial<PaymentToApply> = {}): PaymentToApply {
  return {
    paymentId: 'pay_1',
    amountMinor,
    currency: 'USD',
    customerNumber: 'C10000',
    allocations: allocations.map(([invoiceNumber, amount]) => ({ invoiceNumber, amountMinor: amount })),
    ...over,
  };
}

describe('planApplication: one line per invoice', () => {
  it('applies a payment across two open invoices with the configured method and its own balancing account', () => {
    const plan = planApplication(
      pay(15000, [['INV-1', 10000], ['INV-2', 5000]]),
      [inv('INV-1', 10000), inv('INV-2', 8000)],
      { ...settings, paymentMethodCode: 'CARD', methodBalancingAccounts: { CARD: '2910' }, defaultBalancingAccount: '2900' },
    );
    expect(plan.attention).toBeNull();
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'applied', amountMinor: 5000, invoiceNumber: 'INV-2' },
    ]);
    expect(plan).toMatchObject({
      methodCode: 'CARD',
      balancingAccount: '2910',
      journalBatch: 'PORTAL',
      externalDocumentNumber: 'pay_1',
    });
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: null });
  });

  it('falls back to the customer method and the default balancing account', () => {
    const plan = planApplication(pay(100, [['INV-1', 100]], { customerMethodCode: 'BANK' }), [inv('INV-1', 100)], {
      ...settings,
      methodBalancingAccounts: { CARD: '2910' },
      defaultBalancingAccount: '2900',
    });
    expect(plan.methodCode).toBe('BANK');
    expect(plan.balancingAccount).toBe('2900');
  });

  it('leaves the balancing account to the batch when nothing is configured', () => {
    const plan = planApplication(pay(100, [['INV-1', 100]]), [inv('INV-1', 100)], settings);
    expect(plan.methodCode).toBeNull();
    expect(plan.balancingAccount).toBeNull();
  });

  it('posts money the portal did not allocate as customer credit', () => {
    const plan = planApplication(pay(12000, [['INV-1', 10000]]), [inv('INV-1', 10000)], settings);
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 2000, invoiceNumber: null, why: 'not_allocated' },
    ]);
  });

  it('posts a client-initiated payment with no invoices entirely unapplied', () => {
    const plan = planApplication(pay(5000, []), [], settings);
    expect(plan.parts).toEqual([{ kind: 'unapplied', amountMinor: 5000, invoiceNumber: null, why: 'not_allocated' }]);
    expect(planOutcome(plan).stage).toBe('applied');
  });
});

describe('planApplication: closed invoices', () => {
  const payment = pay(10000, [['INV-1', 6000], ['INV-2', 4000]]);
  const invoices = [inv('INV-1', 6000), inv('INV-2', 0, { status: 'closed' })];

  it('posts to the customer unapplied when Post Payments for Closed Invoices is on', () => {
    const plan = planApplication(payment, invoices, { ...settings, postPaymentsForClosedInvoices: true });
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 6000, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 4000, invoiceNumber: 'INV-2', why: 'closed_invoice' },
    ]);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: null });
  });

  it('skips with reason closed_invoice when it is off', () => {
    const plan = planApplication(payment, invoices, settings);
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 6000, invoiceNumber: 'INV-1' },
      { kind: 'skipped', amountMinor: 4000, invoiceNumber: 'INV-2', reason: 'closed_invoice' },
    ]);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: 'closed_invoice' });
  });

  it('skips the whole payment when its only invoice is closed', () => {
    const plan = planApplication(pay(4000, [['INV-2', 4000]]), invoices, settings);
    expect(postableParts(plan)).toEqual([]);
    expect(planOutcome(plan)).toEqual({ stage: 'skipped', reason: 'closed_invoice' });
  });

  it('treats an open invoice with nothing remaining as closed', () => {
    const plan = planApplication(pay(4000, [['INV-3', 4000]]), [inv('INV-3', 0)], { ...settings, postPaymentsForClosedInvoices: true });
    expect(plan.parts).toEqual([{ kind: 'unapplied', amountMinor: 4000, invoiceNumber: 'INV-3', why: 'closed_invoice' }]);
  });
});

// Plans recorded before overpaymentCredit (their settings come from history): an excess was booked as a fee, reported, or
// parked above the fee cap. Replayed runs must plan exactly as they did.
describe('planApplication: overpayments (plans recorded before overpaymentCredit)', () => {
  const payment = pay(10300, [['INV-1', 10300]]);
  const invoices = [inv('INV-1', 10000)];

  it('applies the whole allocation when overpayments are allowed (the ERP keeps an open payment)', () => {
    const plan = planApplication(payment, invoices, settings);
    expect(plan.parts).toEqual([{ kind: 'applied', amountMinor: 10300, invoiceNumber: 'INV-1' }]);
  });

  it('applies the remaining amount and books the excess to the fee account', () => {
    const plan = planApplication(payment, invoices, { ...settings, disallowOverpayments: true, feeAccount: '6810' });
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'fee', amountMinor: 300, invoiceNumber: 'INV-1', account: '6810' },
    ]);
    expect(postableParts(plan)).toHaveLength(2);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: null });
  });

  it('reports the excess when there is no fee account', () => {
    const plan = planApplication(payment, invoices, { ...settings, disallowOverpayments: true });
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'excess', amountMinor: 300, invoiceNumber: 'INV-1' },
    ]);
    expect(postableParts(plan)).toEqual([{ kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' }]);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: 'over_cap' });
  });

  it('parks an excess above the fee cap instead of booking it as a fee', () => {
    const s = { ...settings, disallowOverpayments: true, feeAccount: '6810' };
    const byAmount = planApplication(payment, invoices, { ...s, feeCap: { maxMinor: 299 } });
    expect(byAmount.attention).toMatchObject({ reason: 'over_cap', invoiceNumbers: ['INV-1'] });
    expect(byAmount.parts).toEqual([{ kind: 'held', amountMinor: 10300, invoiceNumber: null }]);
    // 300 of 10000 is exactly 3%: at the cap, not above it.
    expect(planApplication(payment, invoices, { ...s, feeCap: { maxBasisPoints: 300 } }).attention).toBeNull();
    expect(planApplication(payment, invoices, { ...s, feeCap: { maxBasisPoints: 299 } }).attention?.reason).toBe('over_cap');
    expect(planApplication(payment, invoices, { ...s, feeCap: { maxMinor: 299 } }, { allowOverCap: true }).attention).toBeNull();
  });
});

describe('planApplication: what the rules cannot decide', () => {
  it('parks an unknown invoice and names it, posting nothing else', () => {
    const plan = planApplication(pay(200, [['INV-1', 100], ['INV-9', 100]]), [inv('INV-1', 100)], settings);
    expect(plan.attention).toMatchObject({ reason: 'unknown_invoice', invoiceNumbers: ['INV-9'] });
    expect(plan.parts).toEqual([{ kind: 'held', amountMinor: 200, invoiceNumber: null }]);
    expect(postableParts(plan)).toEqual([]);
    expect(planOutcome(plan)).toEqual({ stage: 'needs_attention', reason: 'unknown_invoice' });
  });

  it('parks an invoice whose status the ERP lookup could not tell', () => {
    const plan = planApplication(pay(100, [['INV-1', 100]]), [inv('INV-1', 100, { status: 'unknown' })], settings);
    expect(plan.attention?.reason).toBe('unknown_invoice');
  });

  it('parks a payment whose client has no ERP customer', () => {
    const plan = planApplication(pay(100, [['INV-1', 100]], { customerNumber: null }), [inv('INV-1', 100)], settings);
    expect(plan.attention?.reason).toBe('unknown_customer');
  });

  it("parks a payment to another customer's invoice", () => {
    const plan = planApplication(pay(100, [['INV-1', 100]]), [inv('INV-1', 100, { customerNumber: 'C20000' })], settings);
    expect(plan.attention).toMatchObject({ reason: 'unknown_customer', invoiceNumbers: ['INV-1'] });
  });

  it('parks a currency mismatch', () => {
    const plan = planApplication(pay(100, [['INV-1', 100]]), [inv('INV-1', 100, { currency: 'EUR' })], settings);
    expect(plan.attention).toMatchObject({ reason: 'currency_mismatch', invoiceNumbers: ['INV-1'] });
  });

  it('parks an absurd amount above the payment cap unless finance allows it', () => {
    const s = { ...settings, maxPaymentMinor: 1_000_000 };
    expect(planApplication(pay(1_000_001, []), [], s).attention?.reason).toBe('over_cap');
    expect(planApplication(pay(1_000_000, []), [], s).attention).toBeNull();
    expect(planApplication(pay(1_000_001, []), [], s, { allowOverCap: true }).attention).toBeNull();
  });

  it('applies finance decisions for invoices the rules could not decide', () => {
    const plan = planApplication(
      pay(300, [['INV-1', 100], ['INV-8', 100], ['INV-9', 100]]),
      [inv('INV-1', 100)],
      settings,
      { invoices: { 'INV-8': 'post_unapplied', 'INV-9': 'skip' } },
    );
    expect(plan.attention).toBeNull();
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 100, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 100, invoiceNumber: 'INV-8', why: 'finance_decision' },
      { kind: 'skipped', amountMinor: 100, invoiceNumber: 'INV-9', reason: 'finance_decision' },
    ]);
  });
});

describe('planApplication: bad input is rejected, not parked', () => {
  it.each([
    ['a negative payment', pay(-100, [])],
    ['a zero payment', pay(0, [])],
    ['a fractional amount', pay(10.5, [])],
    ['a non-positive allocation', pay(100, [['INV-1', 0]])],
    ['allocations above the amount', pay(100, [['INV-1', 60], ['INV-2', 60]])],
    ['the same invoice twice', pay(100, [['INV-1', 50], ['INV-1', 50]])],
  ])('%s', (_label, payment) => {
    expect(() => planApplication(payment, [inv('INV-1', 100), inv('INV-2', 100)], settings)).toThrow(ApplicationInputError);
  });
});

describe('attention reasons', () => {
  it('recognises exactly the documented codes', () => {
    for (const r of ['unknown_invoice', 'ambiguous_adjustment', 'missing_email', 'drift']) expect(isAttentionReason(r)).toBe(true);
    expect(isAttentionReason('lost')).toBe(false);
    expect(isAttentionReason(3)).toBe(false);
  });
});

describe('invariant: every plan accounts for the whole payment', () => {
  it('holds over generated payments, invoices and settings', () => {
    const rnd = mulberry32(20240501);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rnd() * 5);
      const allocations: Array<[string, number]> = [];
      const invoices: ErpInvoiceInfo[] = [];
      for (let k = 0; k < n; k++) {
        const number = `INV-${k}`;
        allocations.push([number, 1 + Math.floor(rnd() * 50000)]);
        const roll = rnd();
        if (roll < 0.05) continue; // unknown invoice
        invoices.push(
          inv(number, Math.floor(rnd() * 50000), {
            status: roll < 0.2 ? 'closed' : roll < 0.23 ? 'unknown' : 'open',
            currency: rnd() < 0.03 ? 'EUR' : 'USD',
            customerNumber: rnd() < 0.03 ? 'C20000' : 'C10000',
          }),
        );
      }
      const allocated = allocations.reduce((a, [, m]) => a + m, 0);
      const amount = allocated + (rnd() < 0.3 ? Math.floor(rnd() * 5000) : 0) || 1;
      const s: ApplicationSettings = {
        ...settings,
        postPaymentsForClosedInvoices: rnd() < 0.5,
        disallowOverpayments: rnd() < 0.6,
        feeAccount: rnd() < 0.5 ? '6810' : null,
        feeCap: rnd() < 0.3 ? { maxMinor: pick([0, 100, 1000]), maxBasisPoints: pick([100, 300, undefined]) } : undefined,
        maxPaymentMinor: rnd() < 0.1 ? 100000 : undefined,
        overpaymentCredit: rnd() < 0.5,
      };
      const plan = planApplication(
        pay(amount, allocations, { customerNumber: rnd() < 0.03 ? null : 'C10000' }),
        invoices,
        s,
      );
      plan.parts.forEach((p) => kinds.add(p.kind));
      expect(planTotal(plan)).toBe(amount);
      for (const p of plan.parts) expect(p.amountMinor).toBeGreaterThan(0);
      if (plan.attention) expect(plan.parts).toHaveLength(1);
      // With overpayments disallowed, no invoice ever receives more than its remaining amount.
      if (s.disallowOverpayments) {
        for (const p of plan.parts) {
          if (p.kind === 'applied') expect(p.amountMinor).toBeLessThanOrEqual(invoices.find((x) => x.number === p.invoiceNumber)!.remainingMinor);
        }
      }
    }
    // The generator reaches every kind of part, so the invariant was checked on all of them.
    expect([...kinds].sort()).toEqual(['applied', 'excess', 'fee', 'held', 'skipped', 'unapplied']);
  });
});

describe('planApplication: an overpayment is the customer\'s money (overpaymentCredit)', () => {
  // Paid twice, or paid in the ERP meanwhile: the portal took more than the ERP has left on the invoice.
  const payment = pay(13000, [['INV-1', 13000]]);
  const invoices = [inv('INV-1', 10000)];
  const s = { ...settings, disallowOverpayments: true, overpaymentCredit: true, feeAccount: '6810' };

  it('applies the remaining amount and credits the excess to the customer, never to the fee account', () => {
    for (const feeCap of [undefined, { maxMinor: 0 }, { maxBasisPoints: 299 }]) {
      const plan = planApplication(payment, invoices, { ...s, feeCap });
      expect(plan.parts).toEqual([
        { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
        { kind: 'unapplied', amountMinor: 3000, invoiceNumber: 'INV-1', why: 'overpayment' },
      ]);
      expect(postableParts(plan)).toHaveLength(2);
      // Posted, and indexed so finance sees the customer holds a credit.
      expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: 'over_cap' });
    }
  });

  it('books an excess within the configured fee cap to the fee account', () => {
    const plan = planApplication(payment, invoices, { ...s, feeCap: { maxMinor: 3000 } });
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'fee', amountMinor: 3000, invoiceNumber: 'INV-1', account: '6810' },
    ]);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: null });
  });

  it('keeps the excess the customer\'s when finance let a large payment through (allowOverCap is no fee decision)', () => {
    const plan = planApplication(payment, invoices, { ...s, feeCap: { maxMinor: 0 } }, { allowOverCap: true });
    expect(plan.parts).toEqual([
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 3000, invoiceNumber: 'INV-1', why: 'overpayment' },
    ]);
  });

  it('credits the excess to the customer when there is no fee account, rather than leave it out of the ERP', () => {
    const plan = planApplication(payment, invoices, { ...s, feeAccount: null });
    expect(postableParts(plan).map((p) => [p.kind, p.amountMinor])).toEqual([
      ['applied', 10000],
      ['unapplied', 3000],
    ]);
  });

  it('still books the portal gateway fee to the fee account, or reports it without one', () => {
    const withFee = { ...pay(13320, [['INV-1', 13320]]), allocations: [{ invoiceNumber: 'INV-1', amountMinor: 13320, feeMinor: 320 }] };
    expect(planApplication(withFee, invoices, s).parts).toEqual([
      { kind: 'fee', amountMinor: 320, invoiceNumber: 'INV-1', account: '6810' },
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 3000, invoiceNumber: 'INV-1', why: 'overpayment' },
    ]);
    expect(planApplication(withFee, invoices, { ...s, feeAccount: null }).parts).toEqual([
      { kind: 'excess', amountMinor: 320, invoiceNumber: 'INV-1' },
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV-1' },
      { kind: 'unapplied', amountMinor: 3000, invoiceNumber: 'INV-1', why: 'overpayment' },
    ]);
  });
});

describe('gateway fees inside an allocation', () => {
  it('books the portal fee to the fee account and applies the rest to the invoice', () => {
    const plan = planApplication(
      { ...pay(10320, [['INV1', 10320]]), allocations: [{ invoiceNumber: 'INV1', amountMinor: 10320, feeMinor: 320 }] },
      [inv('INV1', 50000)],
      { ...settings, feeAccount: '65100' },
    );
    expect(plan.parts).toEqual([
      { kind: 'fee', amountMinor: 320, invoiceNumber: 'INV1', account: '65100' },
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV1' },
    ]);
    expect(planTotal(plan)).toBe(10320);
  });
  it('reports the fee as excess without a fee account, never dropping it', () => {
    const plan = planApplication(
      { ...pay(10320, [['INV1', 10320]]), allocations: [{ invoiceNumber: 'INV1', amountMinor: 10320, feeMinor: 320 }] },
      [inv('INV1', 50000)],
      { ...settings, feeAccount: null },
    );
    expect(plan.parts).toEqual([
      { kind: 'excess', amountMinor: 320, invoiceNumber: 'INV1' },
      { kind: 'applied', amountMinor: 10000, invoiceNumber: 'INV1' },
    ]);
    expect(planOutcome(plan)).toEqual({ stage: 'applied', reason: 'over_cap' });
  });
  it('rejects a negative fee', () => {
    expect(() =>
      planApplication({ ...pay(100, [['INV1', 100]]), allocations: [{ invoiceNumber: 'INV1', amountMinor: 100, feeMinor: -1 }] }, [inv('INV1', 500)], settings),
    ).toThrow(/fee on invoice INV1/);
  });
});

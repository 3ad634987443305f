import { parseDecimal } from '../../src/domain/money';
import { setOptIn } from '../../src/operations/customers';
import { invoiceState, invoiceTimeline } from '../../src/operations/invoices';
import { paymentState } from '../../src/operations/payments';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { mirrorInvoice } from '../../activities/portal';
import { eventually, invoiceAt, startStack, type TestStack } from '../support/stack';

// What the portal invoice holds: totals equal to the cent with an explicit "Rounding" line when Invoice Ninja's per-line
// tax rounding differs from the ERP's per-document rounding; an invoice partly paid at posting shows the ERP remaining
// as its balance through a portal payment that is never posted back; custom values 1-4 from configured ERP fields;
// "Disable Invoice Emails" on and off; auto-bill for auto-bill customers.

let s: TestStack;
let emailing: TestStack;

const setUp = async (stack: TestStack) => {
  await registerPortalWebhooks(stack.ops, stack.deps.portals);
  await startServiceWorkflows(stack.ops, stack.deps.portals);
  await setOptIn(stack.ops, ['C10000'], { optedIn: true, by: 'test' });
  await setOptIn(stack.ops, ['C20000'], { optedIn: true, autoBill: true, by: 'test' });
  await eventually(async () => (await stack.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
};
const synced = (stack: TestStack, number: string) =>
  eventually(async () => {
    const st = await invoiceState(stack.ops, number);
    return st.portal && st.stage !== 'syncing' && st;
  }, 10000, `invoice ${number} in the portal`);

beforeAll(async () => {
  const customValues = [
    { erpField: 'externalDocumentNumber' },
    { erpField: 'customerPurchaseOrderReference' },
    { erpField: 'dueDate' },
    { erpField: 'totalAmountIncludingTax' },
  ];
  s = await startStack({ settings: { customValues, disableInvoiceEmails: true } });
  // The second stack also names its recurring invoices (external document number "REC-…") for auto-bill.
  emailing = await startStack({ settings: { disableInvoiceEmails: false, recurringInvoices: { erpField: 'externalDocumentNumber', pattern: '^REC-' } } });
  await Promise.all([setUp(s), setUp(emailing)]);
}, 120000);
afterAll(async () => {
  await s?.close();
  await emailing?.close();
});

describe('invoice to portal', () => {
  it('multi-rate taxes whose per-line rounding differs: equal totals to the cent with an explicit Rounding line', async () => {
    // Invoice Ninja rounds tax per line (3 × 0.005 → 0.03), the ERP per rate group (0.015 → 0.02): one cent apart.
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      lines: [
        { description: 'Stamp', quantity: 1, unitPrice: '0.10', taxPercent: '5' },
        { description: 'Stamp', quantity: 1, unitPrice: '0.10', taxPercent: '5' },
        { description: 'Stamp', quantity: 1, unitPrice: '0.10', taxPercent: '5' },
        { description: 'Consulting', quantity: 3, unitPrice: '99.99', taxPercent: '8.25' },
        { description: 'Freight', quantity: 1, unitPrice: '42.10', taxPercent: '0' },
      ],
    });
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    const st = await synced(s, erp.number);
    const inv = await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId);
    expect(inv.amount.minor).toBe(total);
    expect(inv.balance.minor).toBe(total);
    const rounding = inv.lines.filter((l) => l.productKey === 'Rounding' || l.notes === 'Rounding');
    expect(rounding).toHaveLength(1);
    expect(rounding[0]!.lineTotal.minor).toBe(-1);
    expect(rounding[0]!.taxes).toEqual([]);
    // Every ERP line is there with its quantity, price and tax rate.
    const lines = inv.lines.filter((l) => !rounding.includes(l));
    expect(lines.map((l) => [l.notes.split('\n')[0], Number(l.quantity), l.taxes.map((t) => Number(t.rate))])).toEqual([
      ['Stamp', 1, [5]],
      ['Stamp', 1, [5]],
      ['Stamp', 1, [5]],
      ['Consulting', 3, [8.25]],
      ['Freight', 1, []],
    ]);
    expect(st.totalMinor).toBe(total);
    expect(st.attention).toBeNull();
  });

  it('line discounts are percentages in the portal too (Invoice Ninja takes a discount for an amount unless told): equal totals, no Rounding line', async () => {
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      lines: [
        { description: 'Licences', quantity: 2, unitPrice: '125.00', taxPercent: '8.25', discountPercent: '10' },
        { description: 'Support', quantity: 1, unitPrice: '80.00', taxPercent: '8.25' },
      ],
    });
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    const st = await synced(s, erp.number);
    const inv = await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId);
    // 2 × 125.00 less 10 % = 225.00, plus 80.00, plus 8.25 % tax (25.16): 330.16 on both sides.
    expect(total).toBe(33016);
    expect(inv.amount.minor).toBe(total);
    expect(inv.lines.map((l) => [l.notes.split('\n')[0], Number(l.quantity), Number(l.discount), l.lineTotal.minor])).toEqual([
      ['Licences', 2, 10, 22500],
      ['Support', 1, 0, 8000],
    ]);
    expect(st.attention).toBeNull();
  });

  it('unit prices finer than the currency reach the portal whole: 1000 × 0.125 stays 1000 at 0.125, not one line of 125.00', async () => {
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      lines: [
        { description: 'Screws', quantity: 1000, unitPrice: '0.125', taxPercent: '8.25' },
        { description: 'Labels', quantity: 3, unitPrice: '0.33333', taxPercent: '0' },
      ],
    });
    // The ERP keeps the price and rounds the line: 125.00 and 1.00 (0.99999), tax 10.31.
    const read = await s.deps.bc.getSalesInvoiceByNumber(erp.number, { lines: true });
    expect(read!.lines!.map((l) => [l.quantity, l.unitPrice, l.netAmount.minor])).toEqual([
      [1000, { units: 125, scale: 3 }, 12500],
      [3, { units: 33333, scale: 5 }, 100],
    ]);
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    expect(total).toBe(13631);
    const st = await synced(s, erp.number);
    const inv = await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId);
    expect(inv.amount.minor).toBe(total);
    expect(inv.lines.map((l) => [l.notes, Number(l.quantity), Number(l.unitCost), l.lineTotal.minor])).toEqual([
      ['Screws', 1000, 0.125, 12500],
      ['Labels', 3, 0.33333, 100],
    ]);
    expect(st.attention).toBeNull();
  });

  it('an invoice in another currency than its portal client invoices in waits for a person, never made up as the client\'s money', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Euro Later GmbH', email: 'ap@euro-later.example' });
    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    // The customer's currency changes in the ERP after its portal client was made (in USD).
    s.bc.admin.updateCustomer(c.number, { currencyCode: 'EUR' });
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Service', quantity: 1, unitPrice: '100.00', taxPercent: '0' }] });
    expect(erp.currencyCode).toBe('EUR');
    const st = await invoiceAt(s, erp.number, 'needs_attention');
    expect(st.attention).toEqual({ reason: 'portal_rejected', detail: expect.stringContaining(`invoice ${erp.number} is in EUR but its portal client invoices in USD`) });
    expect(st.linkSent).toBe(false);
  });

  describe('a portal that computes a tax a cent off (binary floats, as PHP can on .xx5 values)', () => {
    // 10 % of 1.45 is 0.145: the ERP and our model round it to 0.15, the floating-point portal to 0.14.
    const postOddTax = () => s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Adapter', quantity: 1, unitPrice: '1.45', taxPercent: '10' }] });
    const expectCorrected = async (number: string, total: number) => {
      const st = await invoiceAt(s, number, 'link_sent', 20000);
      expect(st.attention).toBeNull();
      const portal = s.deps.portals.client('default');
      const inv = await portal.getInvoice(st.portal!.invoiceId);
      expect(inv.amount.minor).toBe(total);
      expect(inv.balance.minor).toBe(total);
      expect(inv.lines.map((l) => [l.notes.split('\n')[0], l.lineTotal.minor, l.taxAmount.minor])).toEqual([
        ['Adapter', 145, 14],
        ['Rounding', 1, 0],
      ]);
      expect((await portal.listInvoicesUpdatedSince(0)).filter((i) => i.number === number)).toHaveLength(1);
    };
    beforeEach(() => s.portal.admin.setTaxArithmetic('float'));
    afterEach(() => {
      s.portal.admin.setTaxArithmetic('exact');
      s.portal.admin.configureFaults({ failNext: 0, failNextMethod: '' });
    });

    it('the sync corrects the rounding line once, so the totals agree to the cent', async () => {
      const erp = postOddTax();
      const total = parseDecimal(erp.totalIncludingTax, 'USD');
      expect(total).toBe(160);
      await expectCorrected(erp.number, total);
    });

    it('the correction fails with the portal down: the retried sync finishes it on the invoice it created, no drift', async () => {
      // Every attempt of the correction's PUT in the sync's first run fails (the client retries 5 times), so the sync
      // runs again, finds the number taken by its own uncorrected invoice, and corrects that one.
      s.portal.admin.configureFaults({ failNext: 5, failNextMethod: 'PUT' });
      const erp = postOddTax();
      await expectCorrected(erp.number, parseDecimal(erp.totalIncludingTax, 'USD'));
      expect(s.portal.admin.configureFaults({}).failNext).toBe(0);
    });

    it('paid on meanwhile (no fee line): the retried sync still corrects it, and the balance owes the cent as the ERP does', async () => {
      // A payment entered in the portal while the correction's first run keeps failing: the invoice holds the plan's
      // lines and 1.00 paid, so the retried sync corrects it to 1.60 and 0.60 stays due.
      s.portal.admin.configureFaults({ failNext: 5, failNextMethod: 'PUT' });
      const erp = postOddTax();
      const portal = s.deps.portals.client('default');
      const made = await eventually(() => portal.findInvoiceByNumber(erp.number), 5000, 'the uncorrected portal invoice');
      expect(made.amount.minor).toBe(159);
      await portal.createPayment({
        clientId: made.clientId,
        amountMinor: 100,
        currency: 'USD',
        invoices: [{ invoiceId: made.id, amountMinor: 100 }],
        idempotencyKey: `test-meanwhile-${erp.number}`,
        date: new Date().toISOString().slice(0, 10),
        transactionReference: `test-meanwhile-${erp.number}`,
      });
      const st = await eventually(async () => {
        const x = await invoiceState(s.ops, erp.number);
        return x.portal && x.stage !== 'syncing' && x;
      }, 20000, `invoice ${erp.number} synced`);
      expect(st.attention).toBeNull();
      const inv = await portal.getInvoice(made.id);
      expect([inv.amount.minor, inv.paidToDate.minor, inv.balance.minor]).toEqual([160, 100, 60]);
      expect(inv.lines.map((l) => [l.notes.split('\n')[0], l.lineTotal.minor])).toEqual([
        ['Adapter', 145],
        ['Rounding', 1],
      ]);
    });
  });

  it('partly paid at posting: the portal balance equals the ERP remaining, and that portal payment is never posted back to the ERP', async () => {
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      paidAtPosting: '50.00',
      lines: [
        { description: 'Workshop', quantity: 2, unitPrice: '125.00', taxPercent: '8.25' },
        { description: 'Materials', quantity: 5, unitPrice: '3.33', taxPercent: '5' },
      ],
    });
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    const remaining = parseDecimal(erp.remaining, 'USD');
    expect(total - remaining).toBe(5000);
    const ledgerBefore = s.bc.admin.listLedgerEntries({ customerNumber: 'C10000' }).length;

    const st = await synced(s, erp.number);
    const portal = s.deps.portals.client('default');
    const inv = await portal.getInvoice(st.portal!.invoiceId);
    expect(inv.amount.minor).toBe(total);
    expect(inv.balance.minor).toBe(remaining);
    const payment = await portal.findPaymentByReference(inv.clientId, `paid-at-posting:${erp.number}`);
    expect(payment?.amount.minor).toBe(5000);

    // The payment workflow sees it, recognises it as recorded from the ERP, and skips it.
    const p = await eventually(async () => {
      const x = await paymentState(s.ops, 'default', payment!.id);
      return x.stage === 'skipped' && x;
    }, 10000, 'the paid-at-posting payment skipped');
    expect(p.posting).toBeNull();
    expect(s.bc.admin.listLedgerEntries({ customerNumber: 'C10000' })).toHaveLength(ledgerBefore);
    expect(s.bc.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === payment!.id)).toEqual([]);
    expect(parseDecimal(s.bc.admin.getInvoice(erp.number).remaining, 'USD')).toBe(remaining);

    const after = await invoiceState(s.ops, erp.number);
    expect(after.stage).toBe('partially_paid');
    expect(after.portalBalanceMinor).toBe(remaining);
    expect(after.erpRemainingMinor).toBe(remaining);
    expect((await invoiceTimeline(s.ops, erp.number)).find((e) => e.detail === 'paid at posting')?.amountMinor).toBe(5000);
  });

  it('a sync that finds the portal invoice takes no payment made in the ERP since for "paid at posting"', async () => {
    const erp = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Audit', quantity: 1, unitPrice: '400.00', taxPercent: '0' }] });
    const st = await synced(s, erp.number);
    const portal = s.deps.portals.client('default');
    const inv = await portal.getInvoice(st.portal!.invoiceId);
    // Finance records a payment in the ERP; a resync (a retried attempt, "Modify Sync Status") runs before the ERP
    // watcher has brought it to the portal.
    s.bc.admin.recordPayment({ invoiceNumber: erp.number, amount: '150.00', externalDocumentNumber: 'CHK-1001' });
    const read = (await s.deps.bc.getSalesInvoiceByNumber(erp.number, { lines: true }))!;
    expect(read.remaining.minor).toBe(25000);
    const res = await mirrorInvoice(s.deps, read, 'default', inv.clientId, false);
    expect(res).toMatchObject({ created: false, paidAtPostingMinor: 0 });
    expect(await portal.findPaymentByReference(inv.clientId, `paid-at-posting:${erp.number}`)).toBeNull();
    // The watcher brings the ERP payment, once: the portal balance is the ERP remaining.
    await eventually(async () => (await portal.getInvoice(inv.id)).balance.minor === 25000, 10000, 'the ERP payment in the portal');
    const payments = (await portal.listClientPayments(inv.clientId)).filter((p) => p.invoices.some((i) => i.invoiceId === inv.id));
    expect(payments.map((p) => p.amount.minor)).toEqual([15000]);
  });

  it('custom values 1-4 come from the configured ERP fields; the invoice number is the ERP number', async () => {
    const erp = s.bc.admin.postInvoice({
      customerNumber: 'C10000',
      externalDocumentNumber: 'EXT-4411',
      customerPurchaseOrderReference: 'PO-2024-77',
      dueDate: '2031-03-15',
      lines: [{ description: 'Audit', quantity: 1, unitPrice: '1000.00', taxPercent: '8.25' }],
    });
    const st = await synced(s, erp.number);
    const inv = await s.deps.portals.client('default').getInvoice(st.portal!.invoiceId);
    expect(inv.number).toBe(erp.number);
    expect(inv.customValues).toEqual(['EXT-4411', 'PO-2024-77', '2031-03-15', '1082.50']);
    expect(inv.poNumber).toBe('PO-2024-77');
    expect(inv.dueDate).toBe('2031-03-15');
  });

  it('"Disable Invoice Emails" on: the portal sends no email on sync; off: it sends one', async () => {
    const quiet = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Quiet', quantity: 1, unitPrice: '10.00', taxPercent: '0' }] });
    const loud = emailing.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Loud', quantity: 1, unitPrice: '10.00', taxPercent: '0' }] });
    const [q, l] = await Promise.all([synced(s, quiet.number), synced(emailing, loud.number)]);
    expect(s.portal.admin.outbox({ entityId: q.portal!.invoiceId })).toEqual([]);
    const sent = emailing.portal.admin.outbox({ entityId: l.portal!.invoiceId });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'invoice', to: 'ap@adatum.example' });
    // Our own link email goes out either way.
    expect(q.linkSent && l.linkSent).toBe(true);
  });

  it('"Disable Invoice Emails" off: the portal emails the invoice once its amount is final, after the rounding correction', async () => {
    emailing.portal.admin.setTaxArithmetic('float');
    try {
      const erp = emailing.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Adapter', quantity: 1, unitPrice: '1.45', taxPercent: '10' }] });
      const st = await synced(emailing, erp.number);
      const inv = await emailing.deps.portals.client('default').getInvoice(st.portal!.invoiceId);
      expect(inv.amount.minor).toBe(160);
      const sent = emailing.portal.admin.outbox({ entityId: inv.id });
      expect(sent).toHaveLength(1);
      expect(sent[0]!.body).toContain(`Invoice ${erp.number} for 1.60 USD`);
    } finally {
      emailing.portal.admin.setTaxArithmetic('exact');
    }
  });

  it('auto-bill: invoices of an auto-bill customer are marked for automatic charging, others are not', async () => {
    const auto = s.bc.admin.postInvoice({ customerNumber: 'C20000', lines: [{ description: 'Subscription', quantity: 1, unitPrice: '49.00', taxPercent: '8.25' }] });
    const manual = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Subscription', quantity: 1, unitPrice: '49.00', taxPercent: '8.25' }] });
    const [a, m] = await Promise.all([synced(s, auto.number), synced(s, manual.number)]);
    const portal = s.deps.portals.client('default');
    expect((await portal.getInvoice(a.portal!.invoiceId)).autoBillEnabled).toBe(true);
    expect((await portal.getClient(a.portal!.clientId)).settings.auto_bill).toBe('always');
    expect((await portal.getInvoice(m.portal!.invoiceId)).autoBillEnabled).toBe(false);
  });

  it('auto-bill with a rule for recurring invoices: only the auto-bill customer\'s invoices recurring sales made are charged by the portal', async () => {
    const post = (externalDocumentNumber: string) =>
      emailing.bc.admin.postInvoice({ customerNumber: 'C20000', externalDocumentNumber, lines: [{ description: 'Plan', quantity: 1, unitPrice: '49.00', taxPercent: '0' }] });
    const [recurring, oneOff] = [post('REC-2026-11'), post('PO-77')];
    const [r, o] = await Promise.all([synced(emailing, recurring.number), synced(emailing, oneOff.number)]);
    const portal = emailing.deps.portals.client('default');
    expect((await portal.getInvoice(r.portal!.invoiceId)).autoBillEnabled).toBe(true);
    expect((await portal.getInvoice(o.portal!.invoiceId)).autoBillEnabled).toBe(false);
  });
});

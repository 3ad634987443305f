import { parseDecimal } from '../../src/domain/money';
import { customerState } from '../../src/operations/customers';
import { paymentState } from '../../src/operations/payments';
import { ADJUSTMENT_PAIRED_MEMO, ADJUSTMENT_WAITING_MEMO } from '../../workflows/customer';
import { customerWorkflowId } from '../../workflows/ids';
import { eventually, useStack, type TestStack } from '../support/stack';
import { apiPayment, ledger, ledgerSum, paymentAt, portalPaymentBody, postErpInvoice, sleep, startPaymentStack } from './paymentFixtures';

// Refund versus adjustment with a short window (3 s): a negative portal payment with a positive partner of the same
// amount for the same client, before or after it, is an adjustment (nothing, or a reversal of the partner's posting,
// reaches the ERP); without a partner by the end of the window it is a refund posted to the customer, unapplied.

let s: TestStack;
const customerHandle = (number: string) => s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, number));
const customerEvents = async (number: string) => (await customerHandle(number).fetchHistory()).events ?? [];
const firstArg = (payloads: Array<{ data?: Uint8Array | null }> | null | undefined) =>
  JSON.parse(Buffer.from(payloads?.[0]?.data ?? new Uint8Array()).toString('utf8')) as { payment: { paymentId: string }; known?: Array<{ paymentId: string; amountMinor: number }> };
/** The customer workflow's signals, with the payment each one is about. */
const customerSignals = async (number: string) =>
  (await customerEvents(number))
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => !!a)
    .map((a) => ({ name: a!.signalName, paymentId: a!.signalName === 'offerForMatching' ? firstArg(a!.input?.payloads).payment.paymentId : null }));
/** The matchAdjustment Updates the customer workflow accepted: the asking payment and the payments it brought. */
const customerUpdates = async (number: string) =>
  (await customerEvents(number))
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest)
    .filter((r) => r?.input?.name === 'matchAdjustment')
    .map((r) => {
      const arg = firstArg(r!.input!.args?.payloads);
      return { paymentId: arg.payment.paymentId, known: arg.known };
    });
useStack(() => startPaymentStack({ settings: { payments: { adjustmentWindow: '3s' } } }), (stack) => (s = stack));

describe('refund versus adjustment', () => {
  it('positive then negative: the positive is posted, then reversed once; the negative posts nothing of its own', async () => {
    const inv = await postErpInvoice(s, 'C10000', '64.00');
    const positive = await apiPayment(s, inv.portalClientId, 6400, [{ invoiceId: inv.portalInvoiceId, amountMinor: 6400 }]);
    await paymentAt(s, positive.id, 'posted');
    const negative = await apiPayment(s, inv.portalClientId, -6400);
    const neg = await paymentAt(s, negative.id, 'adjusted');
    expect(neg.adjustmentPartner).toBe(positive.id);

    expect(ledger(s, positive.id).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-6400]);
    expect(ledger(s, `${positive.id}-R`).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([6400]);
    expect(ledger(s, negative.id)).toEqual([]);
    // The pair nets out on the customer account.
    expect(ledgerSum(s, positive.id) + ledgerSum(s, `${positive.id}-R`)).toBe(0);
    expect(neg.decisions.map((d) => d.action)).toContain('treat_as_adjustment');
    // No negative payment was waiting: the positive did not offer itself; the negative brought it from the portal.
    const signals = await customerSignals('C10000');
    expect(signals.filter((x) => x.name === 'offerForMatching' && x.paymentId === positive.id)).toEqual([]);
    const asked = await customerUpdates('C10000');
    expect(asked.find((u) => u.paymentId === negative.id)?.known).toEqual(expect.arrayContaining([expect.objectContaining({ paymentId: positive.id, amountMinor: 6400 })]));
  });

  it('negative then positive (both within the window): both adjusted, nothing reaches the ERP', async () => {
    const inv = await postErpInvoice(s, 'C10000', '71.10');
    const negative = await apiPayment(s, inv.portalClientId, -7110);
    await paymentAt(s, negative.id, 'classified'); // waiting for a partner
    // The customer's workflow says so, so the positive payment offers itself.
    expect((await customerHandle('C10000').describe()).memo?.[ADJUSTMENT_WAITING_MEMO]).toBe(true);
    const positive = await apiPayment(s, inv.portalClientId, 7110, [{ invoiceId: inv.portalInvoiceId, amountMinor: 7110 }]);
    const pos = await paymentAt(s, positive.id, 'adjusted');
    const neg = await paymentAt(s, negative.id, 'adjusted');
    expect(pos.adjustmentPartner).toBe(negative.id);
    expect(neg.adjustmentPartner).toBe(positive.id);
    await sleep(3500); // past the window: still nothing
    for (const id of [positive.id, negative.id, `${positive.id}-R`, `${negative.id}-R`]) expect(ledger(s, id)).toEqual([]);
    expect(pos.posting).toBeNull();
    // The customer's arbiter recorded the pair.
    const ledgerEntries = (await customerState(s.ops, 'C10000')).matchLedger;
    expect(ledgerEntries.find((e) => e.id === negative.id)?.pairedWith).toBe(positive.id);
    expect((await customerSignals('C10000')).filter((x) => x.name === 'offerForMatching' && x.paymentId === positive.id)).toHaveLength(1);
    expect((await customerHandle('C10000').describe()).memo?.[ADJUSTMENT_WAITING_MEMO]).toBe(false);
  });

  it('a negative payment with no partner by the end of the window is a refund posted to the customer, unapplied', async () => {
    const inv = await postErpInvoice(s, 'C20000', '25.00');
    // A positive payment of another amount is no partner.
    const other = await apiPayment(s, inv.portalClientId, 2500, [{ invoiceId: inv.portalInvoiceId, amountMinor: 2500 }]);
    await paymentAt(s, other.id, 'posted');
    const negative = await apiPayment(s, inv.portalClientId, -1234);
    await paymentAt(s, negative.id, 'classified');
    const refunded = await paymentAt(s, negative.id, 'refunded', 15000);
    // Decided once the window after the payment (portal created_at + 3 s) had passed.
    const decidedAt = Date.parse(refunded.decisions.find((d) => d.action === 'refund')!.at);
    expect(decidedAt - refunded.context!.createdAtMs).toBeGreaterThanOrEqual(3000);
    const entries = ledger(s, negative.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toEqual(expect.objectContaining({ customerNumber: 'C20000' }));
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(1234);
    // Unapplied: the refund entry is applied to nothing.
    expect(s.bc.admin.listApplications().filter((a) => a.creditEntryNumber === entries[0]!.entryNumber || a.invoiceEntryNumber === entries[0]!.entryNumber)).toEqual([]);
    expect(refunded.decisions.map((d) => d.action)).toContain('refund');
    expect(ledger(s, other.id)).toHaveLength(1);
  });

  it('a refund posted to the customer, then voided in the portal: taken back once, crediting the customer', async () => {
    const inv = await postErpInvoice(s, 'C20000', '13.57');
    const negative = await apiPayment(s, inv.portalClientId, -1357);
    await paymentAt(s, negative.id, 'refunded', 15000);
    expect(ledger(s, negative.id).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([1357]);

    await s.deps.portals.client('default').deletePayment(negative.id); // delete_payment webhook
    const voided = await paymentAt(s, negative.id, 'skipped', 15000);
    expect(voided.note).toBe('voided in the portal after posting: refund reversed');
    expect(ledger(s, `${negative.id}-R`).map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[-1357, 'C20000']]);
    expect(ledgerSum(s, negative.id) + ledgerSum(s, `${negative.id}-R`)).toBe(0);
    // A late duplicate of the delete webhook takes nothing back twice.
    await s.deps.portals.client('default').deletePayment(negative.id).catch(() => undefined);
    await sleep(800);
    expect(ledger(s, `${negative.id}-R`)).toHaveLength(1);
    expect(ledger(s, `${negative.id}-R2`)).toEqual([]);
  });

  it('an adjustment whose negative payment is voided after it reversed its partner: the reversal is taken back once, the partner is unpaired', async () => {
    const inv = await postErpInvoice(s, 'C10000', '66.00');
    const positive = await apiPayment(s, inv.portalClientId, 6600, [{ invoiceId: inv.portalInvoiceId, amountMinor: 6600 }]);
    await paymentAt(s, positive.id, 'posted');
    const negative = await apiPayment(s, inv.portalClientId, -6600);
    expect((await paymentAt(s, negative.id, 'adjusted')).adjustmentPartner).toBe(positive.id);
    expect(ledger(s, `${positive.id}-R`).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([6600]);

    await s.deps.portals.client('default').deletePayment(negative.id); // delete_payment webhook
    const voided = await paymentAt(s, negative.id, 'skipped', 15000);
    expect(voided.adjustmentPartner).toBe(positive.id);
    expect(voided.decisions.map((d) => d.action)).toContain('reverse');
    // The positive payment stands in the portal: the ERP has it received again, crediting the customer, under the
    // positive payment's own next reversal key (its posting state nets the take-back against the reversal).
    expect(ledger(s, `${positive.id}-R2`).map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[-6600, 'C10000']]);
    expect(ledgerSum(s, positive.id) + ledgerSum(s, `${positive.id}-R`) + ledgerSum(s, `${positive.id}-R2`)).toBe(-6600);
    expect(ledger(s, negative.id)).toEqual([]);
    expect(ledger(s, `${negative.id}-R`)).toEqual([]);
    // The arbiter no longer counts the positive payment as paired.
    const entries = (await customerState(s.ops, 'C10000')).matchLedger;
    expect(entries.find((e) => e.id === positive.id)?.pairedWith ?? null).toBeNull();

    // A duplicate delete webhook (a second run) takes nothing back twice.
    await s.deps.portals.client('default').deletePayment(negative.id).catch(() => undefined);
    await sleep(2000);
    await paymentAt(s, negative.id, 'skipped', 15000);
    expect(ledger(s, `${positive.id}-R2`)).toHaveLength(1);
    for (const id of [`${negative.id}-R`, `${positive.id}-R3`]) expect(ledger(s, id)).toEqual([]);
  });

  it('a released partner voided in the portal later: its posting is reversed again, the customer nets zero', async () => {
    const inv = await postErpInvoice(s, 'C20000', '55.00');
    const positive = await apiPayment(s, inv.portalClientId, 5500, [{ invoiceId: inv.portalInvoiceId, amountMinor: 5500 }]);
    await paymentAt(s, positive.id, 'posted');
    const negative = await apiPayment(s, inv.portalClientId, -5500);
    await paymentAt(s, negative.id, 'adjusted');
    await s.deps.portals.client('default').deletePayment(negative.id);
    await paymentAt(s, negative.id, 'skipped', 15000);
    await eventually(async () => ledger(s, `${positive.id}-R2`).length > 0 || ledger(s, `${negative.id}-R`).length > 0, 15000, 'the take-back posted');

    await s.deps.portals.client('default').deletePayment(positive.id);
    const voided = await paymentAt(s, positive.id, 'skipped', 20000);
    expect(voided.note).toBe('voided in the portal after posting: posting reversed');
    expect(ledger(s, `${positive.id}-R3`).map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[5500, 'C20000']]);
    // Both payments voided in the portal: the customer's entries of every key involved net to zero.
    const keys = [positive.id, `${positive.id}-R`, `${positive.id}-R2`, `${positive.id}-R3`, `${positive.id}-R4`, negative.id, `${negative.id}-R`];
    expect(keys.reduce((sum, k) => sum + ledgerSum(s, k), 0)).toBe(0);
  });

  it('an adjustment that kept both payments out of the ERP, its negative payment then voided: the positive payment is posted', async () => {
    const inv = await postErpInvoice(s, 'C10000', '72.30');
    const negative = await apiPayment(s, inv.portalClientId, -7230);
    await paymentAt(s, negative.id, 'classified'); // waiting for a partner
    const positive = await apiPayment(s, inv.portalClientId, 7230, [{ invoiceId: inv.portalInvoiceId, amountMinor: 7230 }]);
    await paymentAt(s, positive.id, 'adjusted');
    await paymentAt(s, negative.id, 'adjusted');
    expect(ledger(s, positive.id)).toEqual([]);

    await s.deps.portals.client('default').deletePayment(negative.id);
    await paymentAt(s, positive.id, 'posted', 20000);
    expect(ledger(s, positive.id).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-7230]);
    const voided = await paymentAt(s, negative.id, 'skipped', 15000);
    expect(voided.adjustmentPartner).toBe(positive.id);
    for (const id of [`${positive.id}-R`, negative.id, `${negative.id}-R`]) expect(ledger(s, id)).toEqual([]);
  });
});

describe('refund versus adjustment, webhooks delivered one at a time (none registered, hourly poll)', () => {
  let h: TestStack;
  beforeAll(async () => {
    h = await startPaymentStack({ webhooks: false, settings: { payments: { adjustmentWindow: '3s' }, polling: { paymentsInterval: '1h' } } });
  }, 60000);
  afterAll(async () => {
    await h?.close();
  });
  const deliver = async (event: string, paymentId: string) => {
    const res = await fetch(`${h.apiUrl}/webhooks/invoice-ninja/default/${event}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-arsync-webhook-secret': h.config.env.PORTAL_WEBHOOK_SECRET },
      body: JSON.stringify(await portalPaymentBody(h, paymentId)),
    });
    expect(res.status).toBe(200);
  };

  it('positive then negative in the portal, the negative handled first: the pair nets out, the positive is never posted', async () => {
    const inv = await postErpInvoice(h, 'C10000', '55.00');
    const positive = await apiPayment(h, inv.portalClientId, 5500, [{ invoiceId: inv.portalInvoiceId, amountMinor: 5500 }]);
    const negative = await apiPayment(h, inv.portalClientId, -5500);
    await deliver('create_payment', negative.id); // the positive's webhook comes late: no workflow of its own yet
    const neg = await paymentAt(h, negative.id, 'adjusted');
    expect(neg.adjustmentPartner).toBe(positive.id);
    // The customer's workflow publishes the pairing for the positive payment to find when its workflow runs.
    const customer = h.t.client.workflow.getHandle(customerWorkflowId(h.ops.companyId, 'C10000'));
    expect((await customer.describe()).memo?.[ADJUSTMENT_PAIRED_MEMO]).toEqual([positive.id]);

    await deliver('create_payment', positive.id);
    const pos = await paymentAt(h, positive.id, ['adjusted', 'posted']);
    expect(pos.stage).toBe('adjusted');
    expect(pos.adjustmentPartner).toBe(negative.id);
    await sleep(1000);
    expect((await paymentState(h.ops, 'default', positive.id)).posting).toBeNull();
    for (const id of [positive.id, `${positive.id}-R`, negative.id, `${negative.id}-R`]) expect(ledger(h, id)).toEqual([]);
    // Once the positive payment has heard it, it is no longer listed.
    expect((await customer.describe()).memo?.[ADJUSTMENT_PAIRED_MEMO]).toBeUndefined();
  });

  it('a second negative payment of the same amount, asked after the first pair left the window, does not claim the paired positive payment again', async () => {
    const inv = await postErpInvoice(h, 'C20000', '44.00');
    const first = await apiPayment(h, inv.portalClientId, -4400);
    await deliver('create_payment', first.id);
    await paymentAt(h, first.id, 'classified'); // waiting for a partner
    // The partner and a second negative payment of the same amount, within the window.
    const positive = await apiPayment(h, inv.portalClientId, 4400, [{ invoiceId: inv.portalInvoiceId, amountMinor: 4400 }]);
    const second = await apiPayment(h, inv.portalClientId, -4400);
    await deliver('create_payment', positive.id);
    expect((await paymentAt(h, positive.id, 'adjusted', 20000)).adjustmentPartner).toBe(first.id);
    expect((await paymentAt(h, first.id, 'adjusted', 20000)).adjustmentPartner).toBe(positive.id);
    await sleep(7000); // more than twice the 3 s window: the arbiter's usual horizon

    await deliver('create_payment', second.id);
    const b = await paymentAt(h, second.id, ['adjusted', 'refunded', 'needs_attention'], 20000);
    // One positive payment of 44.00 came in and two of -44.00 went out: the second is a refund to the customer.
    expect(b.adjustmentPartner).toBeNull();
    expect(b.stage).toBe('refunded');
    expect(ledger(h, second.id).map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[4400, 'C20000']]);
    for (const id of [positive.id, `${positive.id}-R`, first.id]) expect(ledger(h, id)).toEqual([]);
    // The arbiter still holds the first pair.
    const entries = (await customerState(h.ops, 'C20000')).matchLedger;
    expect(entries.find((e) => e.id === positive.id)?.pairedWith).toBe(first.id);
  });
});

describe('refund versus adjustment, a window long enough for a second pair (60 s)', () => {
  let w: TestStack;
  beforeAll(async () => {
    w = await startPaymentStack({ settings: { payments: { adjustmentWindow: '60s' } } });
  }, 60000);
  afterAll(async () => {
    await w?.close();
  });

  it('a partner released by a voided negative payment, paired again by a second one: its posting is reversed again', async () => {
    const inv = await postErpInvoice(w, 'C10000', '66.00');
    const positive = await apiPayment(w, inv.portalClientId, 6600, [{ invoiceId: inv.portalInvoiceId, amountMinor: 6600 }]);
    await paymentAt(w, positive.id, 'posted');
    const first = await apiPayment(w, inv.portalClientId, -6600);
    await paymentAt(w, first.id, 'adjusted');
    await w.deps.portals.client('default').deletePayment(first.id);
    await paymentAt(w, first.id, 'skipped', 15000);

    const second = await apiPayment(w, inv.portalClientId, -6600);
    const paired = await paymentAt(w, second.id, 'adjusted', 60000);
    expect(paired.adjustmentPartner).toBe(positive.id);
    expect(paired.note).toBe(`adjustment pair with portal payment ${positive.id}: its posting was reversed`);
    expect(ledger(w, `${positive.id}-R3`).map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[6600, 'C10000']]);
    // The portal nets to zero (66.00 paid, 66.00 taken back by the second pair): so does the ERP.
    const keys = [positive.id, `${positive.id}-R`, `${positive.id}-R2`, `${positive.id}-R3`, `${positive.id}-R4`, first.id, `${first.id}-R`, second.id, `${second.id}-R`];
    expect(keys.reduce((sum, k) => sum + ledgerSum(w, k), 0)).toBe(0);
  }, 120000);
});

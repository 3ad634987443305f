import { parseDecimal } from '../../src/domain/money';
import { invoiceState, invoiceTimeline } from '../../src/operations/invoices';
import { paymentState, resolve } from '../../src/operations/payments';
import { payOnPortal } from '../support/portalPay';
import { eventually, useStack, type TestStack } from '../support/stack';
import { apiPayment, ledger, ledgerSum, paymentAt, postErpInvoice, sleep, startPaymentStack, submissions } from './paymentFixtures';

// Pending bank payments wait for the portal to settle them; failed ones post nothing; a payment voided or refunded in
// the portal after it was posted is reversed in the ERP (each reversal once, under its own key).

let s: TestStack;
useStack(() => startPaymentStack(), (stack) => (s = stack));

const today = () => new Date().toISOString().slice(0, 10);

describe('pending, failed, voided and refunded portal payments', () => {
  it('pending (bank) → completed in the portal → posted', async () => {
    const inv = await postErpInvoice(s, 'C20000', '90.00');
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '90.00' }], 'bank');
    await paymentAt(s, paymentId, 'pending');
    await sleep(500);
    expect(ledger(s, paymentId)).toEqual([]);
    expect((await paymentAt(s, paymentId, 'pending')).posting).toBeNull();

    // The invoice shows that the portal took it and that it waits to settle.
    const pending = await eventually(async () => (await invoiceTimeline(s.ops, inv.number)).find((e) => e.kind === 'payment_pending'), 10000, 'the pending payment on the timeline');
    expect(pending.detail).toContain(`portal payment ${paymentId}`);
    expect(pending.amountMinor).toBe(9000 + feeMinor);

    s.portal.admin.settlePayment(paymentId); // the bank debit clears; the portal fires update_payment
    const state = await paymentAt(s, paymentId, 'posted');
    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-9000]);
    expect(parseDecimal(s.bc.admin.getInvoice(inv.number).remaining, 'USD')).toBe(0);
    expect(state.context?.portalStatus).toBe('completed');
    // The BANK method's own balancing account (10100) wins over the batch's (10200): the money ends on 10100.
    expect(state.plan?.methodCode).toBe('BANK');
    expect(state.plan?.balancingAccount).toBe('10100');
    const receiptDoc = ledger(s, paymentId)[0]!.documentNumber;
    const gl = [...(await s.deps.bc.findGeneralLedgerEntries(receiptDoc)), ...(await s.deps.bc.findGeneralLedgerEntries(paymentId))];
    const net = (account: string) => gl.filter((e) => e.accountNumber === account).reduce((sum, e) => sum + e.debit.minor - e.credit.minor, 0);
    expect(net('10100')).toBe(9000 + feeMinor);
    expect(net('10200')).toBe(0);
  });

  it('pending → failed in the portal → skipped, nothing posted', async () => {
    const inv = await postErpInvoice(s, 'C20000', '45.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '45.00' }], 'bank');
    await paymentAt(s, paymentId, 'pending');
    s.portal.admin.failPayment(paymentId);
    const state = await paymentAt(s, paymentId, 'skipped');
    expect(state.note).toMatch(/failed before posting/);
    expect(state.decisions).toEqual([expect.objectContaining({ by: 'arsync', action: 'skip' })]);
    await sleep(300);
    expect(ledger(s, paymentId)).toEqual([]);
    expect(await submissions(s, paymentId)).toBe(0);
    expect(parseDecimal(s.bc.admin.getInvoice(inv.number).remaining, 'USD')).toBe(4500);
    // The invoice, told the payment waited to settle, hears it ended: its stage goes back with the portal balance.
    const ended = await eventually(async () => (await invoiceTimeline(s.ops, inv.number)).find((e) => e.kind === 'payment_ended'), 10000, 'the ended payment on the timeline');
    expect(ended.detail).toContain(`portal payment ${paymentId} ended skipped without reaching the ERP`);
    await eventually(async () => ['link_sent', 'viewed'].includes((await invoiceState(s.ops, inv.number)).stage), 10000, 'the invoice back before payment');
  });

  it('voided (deleted) in the portal after posting → the posting is reversed in the ERP, once', async () => {
    const inv = await postErpInvoice(s, 'C10000', '66.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '66.00' }]);
    await paymentAt(s, paymentId, 'posted');
    await s.deps.portals.client('default').deletePayment(paymentId); // delete_payment webhook
    const state = await paymentAt(s, paymentId, 'skipped');
    expect(state.note).toMatch(/voided in the portal after posting/);

    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-6600]);
    expect(ledger(s, `${paymentId}-R`).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([6600]);
    expect(ledgerSum(s, paymentId) + ledgerSum(s, `${paymentId}-R`)).toBe(0);
    // A late duplicate of the delete webhook changes nothing.
    await s.deps.portals.client('default').deletePayment(paymentId).catch(() => undefined);
    await sleep(800);
    expect(ledger(s, `${paymentId}-R`)).toHaveLength(1);
    expect(ledger(s, `${paymentId}-R2`)).toHaveLength(0);
  });

  it('the invoice hears of money the portal took that waits for finance, and of a posting taken back', async () => {
    // Part of a large invoice paid, then voided after posting: the invoice, still open, shows both.
    const inv = await postErpInvoice(s, 'C10000', '500.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '120.00' }]);
    await paymentAt(s, paymentId, 'posted');
    await eventually(async () => (await invoiceState(s.ops, inv.number)).stage === 'partially_paid', 10000, 'partially_paid');
    await s.deps.portals.client('default').deletePayment(paymentId);
    await paymentAt(s, paymentId, 'skipped');
    const reversed = await eventually(async () => (await invoiceTimeline(s.ops, inv.number)).find((e) => e.kind === 'payment_reversed'), 10000, 'the reversal on the timeline');
    expect(reversed).toMatchObject({ amountMinor: 12000, detail: expect.stringContaining('voided in the portal after posting') });

    // A payment above the absurd-amount cap waits for finance: the invoice shows it, and the portal balance it left.
    const big = await postErpInvoice(s, 'C10000', '1500000.00');
    const p = await apiPayment(s, big.portalClientId, 150000000, [{ invoiceId: big.portalInvoiceId, amountMinor: 150000000 }]);
    await paymentAt(s, p.id, 'needs_attention');
    const parked = await eventually(async () => (await invoiceTimeline(s.ops, big.number)).find((e) => e.kind === 'payment_parked'), 10000, 'the parked payment on the timeline');
    expect(parked).toMatchObject({ amountMinor: 150000000, detail: expect.stringContaining('waits for finance (over_cap)') });
    // Paid in the portal, nothing posted: the invoice says paid, not posted.
    await eventually(async () => (await invoiceState(s.ops, big.number)).stage === 'paid', 10000, 'the invoice paid in the portal');
    expect(ledger(s, p.id)).toEqual([]);
    // Finance posts it unapplied, as the action says: a customer credit, the invoice left as the ERP has it.
    await resolve(s.ops, 'default', p.id, { action: 'post_unapplied', by: 'finance@cronus.example', why: 'confirmed with the customer' });
    const done = await paymentAt(s, p.id, 'posted');
    expect(done.plan!.parts).toEqual([{ kind: 'unapplied', amountMinor: 150000000, invoiceNumber: null, why: 'not_allocated' }]);
    expect(ledger(s, p.id).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-150000000]);
    expect(parseDecimal(s.bc.admin.getInvoice(big.number).remaining, 'USD')).toBe(150000000);
  });

  it('refunded in parts after posting → one reversal per refund, then refunded', async () => {
    const inv = await postErpInvoice(s, 'C10000', '80.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '80.00' }]);
    await paymentAt(s, paymentId, 'posted');
    const portal = s.deps.portals.client('default');

    await portal.refundPayment({ paymentId, currency: 'USD', date: today(), invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: 3000 }] });
    await eventually(() => ledger(s, `${paymentId}-R`).length === 1, 15000, 'the first reversal');
    const partly = await eventually(async () => {
      const p = await paymentState(s.ops, 'default', paymentId);
      return p.decisions.some((d) => d.action === 'reverse') && p;
    }, 10000, 'the reversal decision');
    expect(partly.stage).toBe('posted');
    expect(partly.note).toMatch(/refunded in the portal after posting: 30.00 USD reversed/);
    expect(ledgerSum(s, `${paymentId}-R`)).toBe(3000);

    await portal.refundPayment({ paymentId, currency: 'USD', date: today(), invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: 5000 }] });
    await paymentAt(s, paymentId, 'refunded');
    expect(ledgerSum(s, `${paymentId}-R2`)).toBe(5000);
    expect(ledgerSum(s, paymentId) + ledgerSum(s, `${paymentId}-R`) + ledgerSum(s, `${paymentId}-R2`)).toBe(0);
    // The invoice workflow heard of it.
    expect((await invoiceTimeline(s.ops, inv.number)).some((e) => e.kind === 'payment_made')).toBe(true);
  });
});

import { parseDecimal } from '../../src/domain/money';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import { paymentWorkflowId } from '../../workflows/ids';
import { payOnPortal } from '../support/portalPay';
import { eventually, type TestStack } from '../support/stack';
import { ledger, paymentAt, postErpInvoice, remaining, sleep, startPaymentStack, submissions } from './paymentFixtures';

// The same payments with the other settings: no fee account (the gateway fee stays reported on the workflow, never
// silently dropped; an overpayment is credited to the customer as with one) and "Post Payments for Closed Invoices" off (skipped, with the reason).

let s: TestStack;
beforeAll(async () => {
  // No default payment method and no method per portal payment type either: the customer's own method is used.
  s = await startPaymentStack({ settings: { payments: { feeAccountNo: null, postPaymentsForClosedInvoices: false, paymentMethodCode: null, methodCodes: {} } } });
}, 60000);
afterAll(async () => {
  await s?.close();
});

const glOf = async (paymentId: string) => s.deps.bc.findGeneralLedgerEntries(paymentId);

describe('without a fee account, and with closed-invoice payments skipped', () => {
  it('an overpayment with no fee account: the ERP remaining amount is applied, the overpayment credited to the customer, the gateway fee reported', async () => {
    const inv = await postErpInvoice(s, 'C10000', '100.00');
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '25.00' });
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '100.00' }]);
    const state = await paymentAt(s, paymentId, 'posted');

    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD')).sort((a, b) => a - b)).toEqual([-7500, -2500]);
    expect(remaining(s, inv.number)).toBe(0);
    expect(await glOf(paymentId)).toEqual([]); // no fee lines: there is no fee account
    // Nothing lost: the convenience fee, which is no customer money, is in the plan and indexed for finance.
    const excess = state.plan!.parts.filter((p) => p.kind === 'excess').reduce((sum, p) => sum + p.amountMinor, 0);
    expect(excess).toBe(feeMinor);
    expect(state.plan!.parts.reduce((sum, p) => sum + p.amountMinor, 0)).toBe(10000 + feeMinor);
    expect(state.attention).toEqual({ reason: 'over_cap', detail: expect.stringContaining('excess') });
    const described = await s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId)).describe();
    expect(described.typedSearchAttributes.get(Stage)).toBe('posted');
    expect(described.typedSearchAttributes.get(AttentionReason)).toBe('over_cap');
  });

  it('with no payment method in the settings, the customer\'s own is used, and with it its balancing account', async () => {
    // C20000 pays by bank transfer (its ERP payment method BANK, whose own balancing account is 10100).
    const inv = await postErpInvoice(s, 'C20000', '80.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '80.00' }]);
    const state = await paymentAt(s, paymentId, 'posted');
    expect(state.plan).toMatchObject({ methodCode: 'BANK', balancingAccount: '10100' });
    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-8000]);
  });

  it('a payment to an invoice closed in the ERP is skipped with reason closed_invoice; nothing is posted', async () => {
    const inv = await postErpInvoice(s, 'C20000', '33.00');
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '33.00' });
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '33.00' }]);
    const state = await paymentAt(s, paymentId, 'skipped');
    expect(state.attention).toEqual({ reason: 'closed_invoice', detail: expect.stringContaining(inv.number) });
    expect(state.note).toMatch(/closed invoice/);
    expect(state.plan!.parts).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'skipped', reason: 'closed_invoice', invoiceNumber: inv.number, amountMinor: 3300 })]));
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    await eventually(async () => (await handle.describe()).typedSearchAttributes.get(AttentionReason) === 'closed_invoice', 5000, 'the reason indexed');
    await sleep(300);
    expect(ledger(s, paymentId)).toEqual([]);
    expect(await submissions(s, paymentId)).toBe(0);
  });
});

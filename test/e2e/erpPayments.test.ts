import { invoiceState, invoiceTimeline } from '../../src/operations/invoices';
import { paymentState } from '../../src/operations/payments';
import { erpWatcherState } from '../../src/operations/erpSync';
import { payOnPortal } from '../support/portalPay';
import { eventually, useStack, type TestStack } from '../support/stack';
import { clientPayments, paymentsOn, portalInvoice, postSynced, startErpStack, usd, watcherPolls } from './erpFixtures';

// Payments made in the ERP flow back to the portal through the ERP watcher (ledger watermark), and portal payments are
// never echoed back.

let s: TestStack;
useStack(() => startErpStack(), (stack) => (s = stack), 90000);

describe('ERP watcher', () => {
  it('a partial payment in the ERP lowers the portal balance; the rest pays it in full', async () => {
    const inv = await postSynced(s, 'C10000', '250.00');
    const first = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '100.00', postingDate: '2025-03-04' });

    const partly = await eventually(async () => {
      const p = await portalInvoice(s, inv.portalInvoiceId);
      return p.balance.minor === inv.totalMinor - usd('100.00') && p;
    }, 15000, 'the portal balance to follow the partial ERP payment');
    expect(partly.status).toBe('partial');

    // One portal payment keyed by the ERP ledger entry, dated like the ERP payment.
    const mirrored = (await paymentsOn(s, inv)).filter((p) => p.transactionReference === `erp:${first.entryNumber}`);
    expect(mirrored).toHaveLength(1);
    expect(mirrored[0].amount.minor).toBe(usd('100.00'));
    expect(mirrored[0].date).toBe('2025-03-04');

    // The invoice workflow was told: partially paid, with the ERP payment on its timeline.
    const st = await eventually(async () => {
      const x = await invoiceState(s.ops, inv.number);
      return x.stage === 'partially_paid' && x.erpRemainingMinor === inv.totalMinor - usd('100.00') && x;
    }, 10000, 'the invoice workflow at partially_paid');
    expect(st.erpEntries).toContain(first.entryNumber);
    const timeline = await invoiceTimeline(s.ops, inv.number);
    expect(timeline.find((e) => e.kind === 'erp_payment')?.amountMinor).toBe(usd('100.00'));
    // In the order things happened: the ERP payment after the invoice reached the portal (its posting date, a day
    // without a time, in the detail).
    const kinds = timeline.map((e) => e.kind);
    expect(kinds.indexOf('erp_payment')).toBeGreaterThan(kinds.indexOf('synced'));
    expect(timeline.find((e) => e.kind === 'erp_payment')?.detail).toMatch(/^ERP entry \d+, posted \d{4}-\d{2}-\d{2}$/);

    // The portal's own payment workflow recognises it as recorded from the ERP and posts nothing back.
    const staged = await eventually(async () => {
      const p = await paymentState(s.ops, 'default', mirrored[0].id);
      return p.stage === 'skipped' && p;
    }, 10000, 'the mirrored payment skipped by intake');
    expect(staged.context?.origin).toBe('erp');
    expect(s.bc.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === mirrored[0].id)).toEqual([]);

    // Paid in full in the ERP: the portal invoice is paid, the invoice workflow posted.
    const rest = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '150.00' });
    const paid = await eventually(async () => {
      const p = await portalInvoice(s, inv.portalInvoiceId);
      return p.balance.minor === 0 && p;
    }, 15000, 'the portal invoice paid in full');
    expect(paid.status).toBe('paid');
    const refs = (await paymentsOn(s, inv)).map((p) => p.transactionReference).sort();
    expect(refs).toEqual([`erp:${first.entryNumber}`, `erp:${rest.entryNumber}`].sort());
    await eventually(async () => (await invoiceState(s.ops, inv.number)).stage === 'posted', 10000, 'the invoice workflow posted');

    // Polling again changes nothing: the portal already shows what the ERP shows.
    await watcherPolls(s, 3);
    expect(await paymentsOn(s, inv)).toHaveLength(2);
  });

  it('an unapplication in the ERP removes the mirrored portal payment', async () => {
    const inv = await postSynced(s, 'C20000', '80.00');
    const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00' });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor - usd('30.00'), 15000, 'the payment in the portal');
    const [mirrored] = (await paymentsOn(s, inv)).filter((p) => p.transactionReference === `erp:${pay.entryNumber}`);
    expect(mirrored).toBeDefined();

    s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
    const back = await eventually(async () => {
      const p = await portalInvoice(s, inv.portalInvoiceId);
      return p.balance.minor === inv.totalMinor && p;
    }, 15000, 'the portal balance back to the total');
    expect(back.status).toBe('sent');
    // Deleted, and no longer on the invoice (Invoice Ninja drops a deleted payment's invoice links).
    const gone = (await clientPayments(s, inv)).find((p) => p.id === mirrored.id)!;
    expect(gone.isDeleted).toBe(true);
    expect((await paymentsOn(s, inv)).map((p) => p.id)).not.toContain(mirrored.id);
    const st = await eventually(async () => {
      const x = await invoiceState(s.ops, inv.number);
      return x.erpRemainingMinor === inv.totalMinor && x.portalBalanceMinor === inv.totalMinor && x;
    }, 10000, 'the invoice workflow to read the unapplication on both sides');
    expect(st.erpEntries).not.toContain(pay.entryNumber);

    // Paid again in the ERP: one portal payment for the new entry; the unapplied one (open again) is not taken for it.
    const again = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '80.00' });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === 0, 15000, 'paid in full in the portal');
    const live = (await paymentsOn(s, inv)).filter((p) => !p.isDeleted);
    expect(live.map((p) => [p.transactionReference, p.amount.minor])).toEqual([[`erp:${again.entryNumber}`, usd('80.00')]]);
  });

  it('two ERP payments, the first unapplied: the first leaves the portal, the second stays as it was', async () => {
    const inv = await postSynced(s, 'C20000', '250.00');
    const p1 = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00', postingDate: '2025-03-01' });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor - usd('30.00'), 15000, 'the first payment in the portal');
    const p2 = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '50.00', postingDate: '2025-03-02' });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor - usd('80.00'), 15000, 'the second payment in the portal');

    // Within the watcher's overlap, so its next read sees both entries changed.
    s.bc.admin.unapplyPayment({ entryNumber: p1.entryNumber });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor - usd('50.00'), 15000, 'the unapplication in the portal');
    const payments = await paymentsOn(s, inv);
    const live = payments.filter((p) => !p.isDeleted).map((p) => [p.transactionReference, p.amount.minor, p.invoices[0].refunded.minor]);
    expect(live).toEqual([[`erp:${p2.entryNumber}`, usd('50.00'), 0]]);
    expect((await clientPayments(s, inv)).find((p) => p.transactionReference === `erp:${p1.entryNumber}`)?.isDeleted).toBe(true);
  });

  it('a credit memo for part of the invoice, then the rest paid in the ERP: both reach the portal and the invoice is paid, not cancelled', async () => {
    const inv = await postSynced(s, 'C10000', '250.00');
    const memo = s.bc.admin.creditInvoice(inv.number, '50.00');
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor - usd('50.00'), 15000, 'the memo in the portal');
    const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: ((inv.totalMinor - usd('50.00')) / 100).toFixed(2) });
    expect(s.bc.admin.getInvoice(inv.number)).toMatchObject({ status: 'Paid' });

    const paid = await eventually(async () => {
      const p = await portalInvoice(s, inv.portalInvoiceId);
      return p.balance.minor === 0 && p;
    }, 15000, 'paid in full in the portal');
    expect(paid.status).toBe('paid');
    const live = (await paymentsOn(s, inv)).filter((p) => !p.isDeleted);
    expect(live.map((p) => [p.transactionReference, p.amount.minor]).sort()).toEqual(
      [
        [`erp:${memo.entryNumber}`, usd('50.00')],
        [`erp:${pay.entryNumber}`, inv.totalMinor - usd('50.00')],
      ].sort(),
    );
    const st = await eventually(async () => {
      const x = await invoiceState(s.ops, inv.number);
      return x.stage === 'posted' && x;
    }, 10000, 'the invoice workflow posted');
    expect(st.cancelled).toBe(false);
    expect((await invoiceTimeline(s.ops, inv.number)).map((e) => e.kind)).not.toContain('cancelled');
  });

  it('a portal payment posted in the ERP is not echoed back to the portal', async () => {
    const inv = await postSynced(s, 'C10000', '120.00');
    const mark = s.bcRequests.length;
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '50.00' }]);
    await eventually(async () => (await paymentState(s.ops, 'default', paymentId)).stage === 'posted', 20000, 'the portal payment posted in the ERP');
    const before = await portalInvoice(s, inv.portalInvoiceId);
    // The ledger entries of that posting were read by the watcher, and more polls follow.
    await watcherPolls(s, 4);
    const payments = await paymentsOn(s, inv);
    expect(payments.map((p) => p.id)).toEqual([paymentId]);
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(before.balance.minor);
    expect(s.bc.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === paymentId && e.documentType === 'Payment')).toHaveLength(1);
    expect((await erpWatcherState(s.ops)).lastError).toBeNull();
    // The watcher found the posting in its own ledger read: it did not look the payment's posting state up again (with
    // its reversal keys, as the payment's intake did before posting).
    const posted = s.bcRequests.findIndex((r, i) => i >= mark && r.startsWith('POST ') && r.endsWith('/Microsoft.NAV.post'));
    expect(posted).toBeGreaterThanOrEqual(0);
    const lookups = s.bcRequests.filter((r) => r.includes(`externalDocumentNumber eq '${paymentId}-R'`));
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect(s.bcRequests.slice(posted).filter((r) => r.includes(`externalDocumentNumber eq '${paymentId}-R'`))).toEqual([]);
  });
});

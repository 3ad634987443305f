import axios from 'axios';
import { LINE_TYPE } from '../../src/adapters/invoiceNinja';
import { parseDecimal } from '../../src/domain/money';
import { invoiceState } from '../../src/operations/invoices';
import { CustomerNumber, InvoiceNumber, PortalPaymentId, Stage } from '../../src/temporal/searchAttributes';
import { paymentWorkflowId } from '../../workflows/ids';
import { payOnPortal } from '../support/portalPay';
import { eventually, useStack, type TestStack } from '../support/stack';
import { journalQueue, ledger, paymentAt, postErpInvoice, remaining, runCli, startPaymentStack } from './paymentFixtures';

// Card payments made on the real pay page, posted in the sandbox ERP: amounts, application, batch, external document
// number, the gateway fee, one line per invoice, and overpayments capped at the ERP's remaining amount.

let s: TestStack;
useStack(() => startPaymentStack(), (stack) => (s = stack));

const feeEntries = async (paymentId: string) =>
  (await s.deps.bc.findGeneralLedgerEntries(paymentId)).filter((e) => e.accountNumber === s.config.settings.payments.feeAccountNo);
const feePosted = async (paymentId: string) => (await feeEntries(paymentId)).reduce((sum, e) => sum + e.credit.minor - e.debit.minor, 0);

describe('portal card payments posted in the ERP', () => {
  it('posts a pay-page card payment once: amount, applies-to invoice, ARSYNC batch, external document number = portal payment id', async () => {
    const inv = await postErpInvoice(s, 'C10000', '250.00');
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '100.00' }]);
    const state = await paymentAt(s, paymentId, 'posted');

    // Exactly one customer ledger entry carries the portal payment id: a Payment of -100.00 to C10000.
    const entries = ledger(s, paymentId);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry!.documentType).toBe('Payment');
    expect(entry!.customerNumber).toBe('C10000');
    expect(parseDecimal(entry!.amount, 'USD')).toBe(-10000);
    // Posted from the configured cash receipt batch: its number series and its balancing account.
    const batch = (await s.deps.bc.findJournalBatch(s.config.settings.payments.journalBatch))!;
    const viaApi = (await s.deps.bc.findPostedEntries(paymentId)).find((e) => e.entryNumber === entry!.entryNumber)!;
    expect(viaApi.documentNumber).toMatch(/^ARS\d+$/);
    expect(viaApi.balancingAccountNumber).toBe(batch.balancingAccountNumber);
    // Applied to the invoice: an application from this entry to the invoice's entry, and the remaining amount drops.
    const invoiceEntry = s.bc.admin.listLedgerEntries({ documentNumber: inv.number }).find((e) => e.documentType === 'Invoice')!;
    const applications = s.bc.admin.listApplications().filter((a) => a.creditEntryNumber === entry!.entryNumber && !a.unapplied);
    expect(applications).toEqual([expect.objectContaining({ invoiceEntryNumber: invoiceEntry.entryNumber })]);
    expect(parseDecimal(applications[0]!.amount, 'USD')).toBe(10000);
    expect(remaining(s, inv.number)).toBe(inv.totalMinor - 10000);
    // The portal's convenience fee went to the fee account, never to the invoice.
    expect(feeMinor).toBeGreaterThan(0);
    expect(await feePosted(paymentId)).toBe(feeMinor);

    // The workflow: its plan and posting, and what operators filter on in the Temporal UI.
    expect(state.posting).toEqual(expect.objectContaining({ status: 'posted', externalDocumentNumber: paymentId }));
    expect(state.plan?.parts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'applied', invoiceNumber: inv.number, amountMinor: 10000 }),
        expect.objectContaining({ kind: 'fee', amountMinor: feeMinor }),
      ]),
    );
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(PortalPaymentId)).toBe(paymentId);
    expect(described.typedSearchAttributes.get(Stage)).toBe('posted');
    expect(described.typedSearchAttributes.get(CustomerNumber)).toBe('C10000');
    expect(described.typedSearchAttributes.get(InvoiceNumber)).toBe(inv.number);
    // One hand-over to the journal poster in the payment's history.
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled.filter((n) => n === 'enqueueJournalPosting')).toHaveLength(1);

    // Staff are told of the payment received.
    const mail = await eventually(async () => {
      const all = (await axios.get(`${s.sinks.httpUrl}/mail`)).data as Array<{ subject: string; text: string }>;
      return all.find((m) => m.subject === `Payment ${paymentId} received and posted`);
    }, 10000, 'the staff notification');
    expect(mail.text).toContain(`${((10000 + feeMinor) / 100).toFixed(2)} USD`); // what the customer paid, fee included

    // The invoice workflow is told: partially paid, with the ERP's remaining amount.
    const invoice = await eventually(async () => {
      const st = await invoiceState(s.ops, inv.number);
      return st.stage === 'partially_paid' && st;
    }, 10000, 'invoice partially_paid');
    expect(invoice.erpRemainingMinor).toBe(inv.totalMinor - 10000);
  });

  it('a manual retry of a posted payment posts nothing again, and its new run shows what the ERP holds for it', async () => {
    const inv = await postErpInvoice(s, 'C10000', '64.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '64.00' }]);
    await paymentAt(s, paymentId, 'posted');
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    const first = (await handle.describe()).runId;
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 10000, 'the first run to finish');
    const retried = await runCli(s, ['payment', 'retry', 'default', paymentId, '--by', 'ops@cronus.example', '--why', 'check']);
    expect(retried.code).toBe(0);
    await eventually(async () => {
      const d = await handle.describe();
      return d.runId !== first && d.status.name === 'COMPLETED';
    }, 15000, 'the retry run to finish');
    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-6400]);
    const shown = await runCli(s, ['payment', 'show', 'default', paymentId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`(planned by an earlier run; the ERP has 64.00 USD received under ${paymentId})`);
  }, 40000);

  it('posts a payment of two invoices as one applied line per invoice under the same external document number', async () => {
    const a = await postErpInvoice(s, 'C10000', '120.00');
    const b = await postErpInvoice(s, 'C10000', '80.50');
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, a.invitationKey, [
      { invoiceId: a.portalInvoiceId, amount: '120.00' },
      { invoiceId: b.portalInvoiceId, amount: '30.25' },
    ]);
    const state = await paymentAt(s, paymentId, 'posted');

    const entries = ledger(s, paymentId);
    expect(entries.map((e) => parseDecimal(e.amount, 'USD')).sort((x, y) => x - y)).toEqual([-12000, -3025]);
    const applied = s.bc.admin.listApplications().filter((x) => entries.some((e) => e.entryNumber === x.creditEntryNumber));
    const invoiceEntry = (n: string) => s.bc.admin.listLedgerEntries({ documentNumber: n }).find((e) => e.documentType === 'Invoice')!.entryNumber;
    expect(applied.map((x) => [x.invoiceEntryNumber, parseDecimal(x.amount, 'USD')]).sort()).toEqual(
      [
        [invoiceEntry(a.number), 12000],
        [invoiceEntry(b.number), 3025],
      ].sort(),
    );
    expect(remaining(s, a.number)).toBe(0);
    expect(remaining(s, b.number)).toBe(8050 - 3025);
    expect(await feePosted(paymentId)).toBe(feeMinor);
    expect(state.plan?.parts.filter((p) => p.kind === 'applied')).toHaveLength(2);
    // The fully paid invoice reaches posted; the other is partially paid.
    await eventually(async () => (await invoiceState(s.ops, a.number)).stage === 'posted', 10000, `invoice ${a.number} posted`);
    await eventually(async () => (await invoiceState(s.ops, b.number)).stage === 'partially_paid', 10000, `invoice ${b.number} partially_paid`);
  });

  it('applies at most the ERP remaining amount ("Disallow Overpayments") and credits the overpayment to the customer, not to the fee account', async () => {
    const inv = await postErpInvoice(s, 'C20000', '100.00');
    // Part of it was paid inside the ERP: the portal does not know yet and takes the full amount.
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00' });
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '100.00' }]);
    const state = await paymentAt(s, paymentId, 'posted');

    // 70.00 applied to the invoice, and the 30.00 paid twice stays the customer's: an open payment (credit) in the ERP.
    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD')).sort((a, b) => a - b)).toEqual([-7000, -3000]);
    expect(remaining(s, inv.number)).toBe(0);
    // Only the convenience fee is on the fee account: the overpayment is no income.
    expect(await feePosted(paymentId)).toBe(feeMinor);
    expect(state.plan?.parts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'applied', amountMinor: 7000 }),
        expect.objectContaining({ kind: 'unapplied', amountMinor: 3000, why: 'overpayment' }),
      ]),
    );
    // Posted, and indexed for finance: the customer holds a credit to refund or use.
    expect(state.attention).toEqual({ reason: 'over_cap', detail: expect.stringContaining('credited to the customer') });
    const q = await journalQueue(s);
    expect(q.queued).toEqual([]);

    // Voided in the portal afterwards: both customer lines (applied and credit) and the fee are taken back, once.
    await s.deps.portals.client('default').deletePayment(paymentId);
    await paymentAt(s, paymentId, 'skipped');
    expect(ledger(s, `${paymentId}-R`).reduce((sum, e) => sum + parseDecimal(e.amount, 'USD'), 0)).toBe(10000);
    expect(await feePosted(paymentId)).toBe(feeMinor);
    expect(await feePosted(`${paymentId}-R`)).toBe(-feeMinor);
  });
  type ErpInvoice = Awaited<ReturnType<typeof postErpInvoice>>;
  /** Pays 100.00 and then 50.00 by card while no worker runs, so both are classified with both fee lines on the invoice. */
  const payTwiceWithoutWorker = async (inv: ErpInvoice, beforeRestart: () => void = () => undefined) => {
    await s.stopWorker();
    try {
      const first = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '100.00' }]);
      const second = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '50.00' }]);
      beforeRestart();
      return { first, second };
    } finally {
      await s.restartWorker();
    }
  };
  /** Each payment posted once with its own fee line's amount; both sides' balances agree. */
  const expectEachPostedWithItsOwnFee = async (inv: ErpInvoice, first: { paymentId: string; feeMinor: number }, second: { paymentId: string; feeMinor: number }) => {
    expect(first.feeMinor).toBeGreaterThan(0);
    expect(second.feeMinor).toBeGreaterThan(0);
    expect(first.feeMinor).not.toBe(second.feeMinor);
    for (const [p, applied] of [
      [first, 10000],
      [second, 5000],
    ] as const) {
      await paymentAt(s, p.paymentId, 'posted', 20000);
      expect(ledger(s, p.paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-applied]);
      expect(await feePosted(p.paymentId)).toBe(p.feeMinor);
    }
    const portal = await s.deps.portals.client('default').getInvoice(inv.portalInvoiceId);
    expect(remaining(s, inv.number)).toBe(30000 - 15000);
    expect(portal.balance.minor).toBe(remaining(s, inv.number));
  };
  it('keeps the fees of two unposted payments to one invoice apart: each its own fee, balances agree on both sides', async () => {
    const inv = await postErpInvoice(s, 'C10000', '300.00');
    const { first, second } = await payTwiceWithoutWorker(inv);
    await expectEachPostedWithItsOwnFee(inv, first, second);
  });
  it('keeps the two fees apart when the invoice read with its payments predates the newer fee line (Invoice Ninja loads the include after the invoice)', async () => {
    const inv = await postErpInvoice(s, 'C10000', '300.00');
    const portal = s.deps.portals.client('default');
    const real = portal.getInvoiceWithPayments;
    let stale = 0;
    try {
      // Both payments listed, the invoice as it stood before the second one's fee line was added.
      const { first, second } = await payTwiceWithoutWorker(inv, () => {
        portal.getInvoiceWithPayments = async (id) => {
          const read = await real(id);
          if (id !== inv.portalInvoiceId) return read;
          const newest = read.invoice.lines.map((l) => l.typeId).lastIndexOf(LINE_TYPE.PAID_GATEWAY_FEE);
          stale++;
          return { ...read, invoice: { ...read.invoice, lines: read.invoice.lines.filter((_, i) => i !== newest) } };
        };
      });
      await expectEachPostedWithItsOwnFee(inv, first, second);
    } finally {
      portal.getInvoiceWithPayments = real;
    }
    expect(stale).toBeGreaterThan(0);
  });
});

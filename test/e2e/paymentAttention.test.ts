import { WorkflowUpdateStage, type WorkflowUpdateFailedError } from '@temporalio/client';
import axios from 'axios';
import { parseDecimal } from '../../src/domain/money';
import { listAttention } from '../../src/operations/attention';
import { listUnsyncedApplications } from '../../src/operations/erpApplications';
import { listPayments, paymentState, resolve } from '../../src/operations/payments';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import { paymentWorkflowId } from '../../workflows/ids';
import { resolvePayment } from '../../workflows/portalPayment';
import { payOnPortal } from '../support/portalPay';
import { eventually, useStack, type TestStack } from '../support/stack';
import { observePayment } from '../../src/temporal/starters';
import { PORTAL_WEBHOOK_SECRET_HEADER } from '../../src/http/routes/portalWebhook';
import { apiPayment, ledger, ledgerSum, payInFull, paymentAt, portalOnlyInvoice, portalPaymentBody, postErpInvoice, remaining, runCli, sleep, startPaymentStack } from './paymentFixtures';

// What the rules cannot decide alone, and finance's part: a payment to an invoice the ERP does not know waits in
// needs_attention (findable, staff notified) until finance resolves it through the CLI, recorded in history with who
// and why; a payment to an invoice already closed in the ERP is posted unapplied ("Post Payments for Closed Invoices").

let s: TestStack;
useStack(() => startPaymentStack(), (stack) => (s = stack));

describe('payments the rules cannot apply as made', () => {
  it('unknown invoice → needs_attention unknown_invoice → resolved by the CLI (post unapplied) → posted, decision in history', async () => {
    const known = await postErpInvoice(s, 'C10000', '10.00');
    const orphan = await portalOnlyInvoice(s, known.portalClientId, `PORTAL-${Date.now()}`, 5500);
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, orphan.invitationKey, [{ invoiceId: orphan.portalInvoiceId, amount: '55.00' }]);

    const parked = await paymentAt(s, paymentId, 'needs_attention');
    expect(parked.attention).toEqual({ reason: 'unknown_invoice', detail: expect.stringContaining(orphan.number) });
    expect(ledger(s, paymentId)).toEqual([]);
    // Findable by operators, listed for finance, and staff were told.
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    await eventually(async () => (await handle.describe()).typedSearchAttributes.get(AttentionReason) === 'unknown_invoice', 5000, 'AttentionReason indexed');
    expect((await handle.describe()).typedSearchAttributes.get(Stage)).toBe('needs_attention');
    await eventually(async () => (await listPayments(s.ops, { attention: true })).some((r) => r.paymentId === paymentId), 10000, 'the attention list');
    const mail = await eventually(async () => {
      const all = (await axios.get(`${s.sinks.httpUrl}/mail`)).data as Array<{ subject: string }>;
      return all.find((m) => m.subject === `Payment ${paymentId} needs attention: unknown_invoice`);
    }, 10000, 'the staff notification');
    expect(mail).toBeTruthy();

    // A decision that does not fit the reason is refused by the workflow's validator, and leaves no trace.
    const wrong = await runCli(s, ['payment', 'resolve', 'default', paymentId, '--action', 'treat_as_refund', '--by', 'finance@cronus.example', '--why', 'wrong button']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('does not resolve unknown_invoice');
    expect((await paymentState(s.ops, 'default', paymentId)).decisions).toEqual([]);

    const ok = await runCli(s, ['payment', 'resolve', 'default', paymentId, '--action', 'post_unapplied', '--by', 'finance@cronus.example', '--why', 'customer credit until they tell us the invoice']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const posted = await paymentAt(s, paymentId, 'posted');
    expect(posted.decisions).toEqual([
      expect.objectContaining({ by: 'finance@cronus.example', why: 'customer credit until they tell us the invoice', action: 'post_unapplied' }),
    ]);
    // Posted to the customer with no application; the portal's convenience fee went to the fee account, as always.
    const entries = ledger(s, paymentId);
    expect(entries.map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-5500]);
    expect(feeMinor).toBeGreaterThan(0);
    const fees = (await s.deps.bc.findGeneralLedgerEntries(paymentId)).filter((e) => e.accountNumber === s.config.settings.payments.feeAccountNo);
    expect(fees.reduce((sum, e) => sum + e.credit.minor - e.debit.minor, 0)).toBe(feeMinor);
    expect(s.bc.admin.listApplications().filter((a) => a.creditEntryNumber === entries[0]!.entryNumber)).toEqual([]);
    expect(remaining(s, known.number)).toBe(1000);

    // The decision is in the workflow history, with who and why, as the accepted Update's input.
    const history = await handle.fetchHistory();
    const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1);
    const input = accepted[0]!.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!;
    expect(input.name).toBe('resolvePayment');
    const arg = JSON.parse(Buffer.from(input.args!.payloads![0]!.data!).toString());
    expect(arg).toEqual({ action: 'post_unapplied', by: 'finance@cronus.example', why: 'customer credit until they tell us the invoice' });
  });

  it('apply_to_invoice keeps the gateway fee out of the invoice: the customer\'s money is applied, the card fee goes to the fee account', async () => {
    const known = await postErpInvoice(s, 'C10000', '300.00');
    const orphan = await portalOnlyInvoice(s, known.portalClientId, `PORTAL-${Date.now()}`, 10000);
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, orphan.invitationKey, [{ invoiceId: orphan.portalInvoiceId, amount: '100.00' }]);
    expect(feeMinor).toBeGreaterThan(0);
    await paymentAt(s, paymentId, 'needs_attention');
    await resolve(s.ops, 'default', paymentId, { action: 'apply_to_invoice', invoiceNumber: known.number, by: 'alice', why: 'customer mail' });
    const posted = await paymentAt(s, paymentId, 'posted');
    // The customer's 100.00 reaches the invoice; the card fee goes to the fee account, as for any payment.
    expect(ledgerSum(s, paymentId)).toBe(-10000);
    expect(remaining(s, known.number)).toBe(20000);
    expect(posted.plan!.parts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'applied', amountMinor: 10000, invoiceNumber: known.number }),
        expect.objectContaining({ kind: 'fee', amountMinor: feeMinor }),
      ]),
    );
    // The portal still has the payment on the orphan, so the ERP's invoice is 100.00 ahead of its portal invoice: what the
    // ERP mirror offers to bring over is the customer's 100.00, not the fee with it.
    const unsynced = await listUnsyncedApplications(s.ops, { by: 'test' });
    expect(unsynced.filter((a) => a.invoices.some((i) => i.invoiceNumber === known.number)).map((a) => a.amountMinor)).toEqual([10000]);
  });

  it('a second decision while the first is being applied is refused; the run finishes and a later void is reversed', async () => {
    const inv = await postErpInvoice(s, 'C10000', '45.00');
    const orphan = await portalOnlyInvoice(s, inv.portalClientId, `PORTAL-${Date.now()}`, 4500);
    const p = await apiPayment(s, inv.portalClientId, 4500, [{ invoiceId: orphan.portalInvoiceId, amountMinor: 4500 }]);
    await paymentAt(s, p.id, 'needs_attention');
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', p.id));
    // The ERP fails for a moment: the re-plan after the first decision is retried, the stage still says needs_attention.
    s.bc.faults.configure({ errorRate: 1 });
    let second: string;
    try {
      await resolve(s.ops, 'default', p.id, { action: 'apply_to_invoice', invoiceNumber: inv.number, by: 'alice', why: 'customer mail' });
      expect((await paymentState(s.ops, 'default', p.id)).stage).toBe('needs_attention');
      // A refused decision fails at once; an accepted one would get no answer (its handler waited for ever).
      const update = await handle.startUpdate(resolvePayment, { args: [{ action: 'skip', by: 'bob', why: 'duplicate' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      second = await Promise.race([
        update.result().then(
          () => 'applied',
          (e: WorkflowUpdateFailedError) => String(e.cause?.message ?? e.message),
        ),
        sleep(5000).then(() => 'accepted, no answer'),
      ]);
    } finally {
      s.bc.faults.configure({ errorRate: 0 });
    }
    expect(second).toContain('a decision was already taken (apply_to_invoice by alice)');

    const posted = await paymentAt(s, p.id, 'posted', 30000);
    expect(posted.decisions.map((d) => [d.by, d.action])).toEqual([['alice', 'apply_to_invoice']]);
    expect(ledgerSum(s, p.id)).toBe(-4500);
    expect(remaining(s, inv.number)).toBe(0);
    // No handler is left waiting: the run ends, and a void in the portal afterwards reverses the posting.
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 10000, 'the payment run to finish');
    await s.deps.portals.client('default').deletePayment(p.id);
    await eventually(async () => ledgerSum(s, `${p.id}-R`) === 4500, 20000, 'the void reversed in the ERP');
    expect(ledgerSum(s, p.id) + ledgerSum(s, `${p.id}-R`)).toBe(0);
  }, 60000);

  it('an invoice already closed in the ERP: the payment is posted to the customer unapplied ("Post Payments for Closed Invoices" on)', async () => {
    const inv = await postErpInvoice(s, 'C20000', '58.00');
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '58.00' }); // paid in full inside the ERP
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '58.00' }]);
    const state = await paymentAt(s, paymentId, 'posted');
    expect(state.plan?.parts).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'unapplied', why: 'closed_invoice', amountMinor: 5800, invoiceNumber: inv.number })]));
    const entries = ledger(s, paymentId);
    expect(entries.map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-5800]);
    expect(s.bc.admin.listApplications().filter((a) => a.creditEntryNumber === entries[0]!.entryNumber)).toEqual([]);
    expect(entries[0]!.open).toBe(true); // an open credit on the customer account
    expect(remaining(s, inv.number)).toBe(0);
  });

  it('the attention list says how many wait in all when its limit cuts it', async () => {
    const known = await postErpInvoice(s, 'C10000', '10.00');
    const parked: string[] = [];
    for (const n of [1, 2]) {
      const orphan = await portalOnlyInvoice(s, known.portalClientId, `PORTAL-LIMIT-${n}-${Date.now()}`, 1200);
      const { paymentId } = await payOnPortal(s.portal.url, orphan.invitationKey, [{ invoiceId: orphan.portalInvoiceId, amount: '12.00' }]);
      await paymentAt(s, paymentId, 'needs_attention');
      parked.push(paymentId);
    }
    const all = await eventually(async () => {
      const r = await listAttention(s.ops);
      return parked.every((id) => r.payments.some((p) => p.paymentId === id)) && r;
    }, 10000, 'both in the attention list');
    expect(all.totals.payments).toBe(all.payments.length);
    const cut = await listAttention(s.ops, 1);
    expect(cut.payments).toHaveLength(1);
    expect(cut.totals.payments).toBe(all.totals.payments);
    const cli = await runCli(s, ['attention', '--limit', '1']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`payments: ${all.totals.payments} (1 shown; --limit for more)`);
  });
});

describe('finance decisions the run can carry out', () => {
  it('a reversal the ERP refused takes only retry or skip: an application action is refused, the payment stays listed, retry reverses it', async () => {
    const inv = await postErpInvoice(s, 'C10000', '66.00');
    const [p] = await payInFull(s, [inv]);
    const paymentId = p!.paymentId;
    await paymentAt(s, paymentId, 'posted', 30000);
    const posted = ledgerSum(s, paymentId);
    expect(posted).toBe(-inv.totalMinor);
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    // Blocked in the ERP, the customer cannot take the reversal of the payment voided in the portal.
    s.bc.admin.updateCustomer('C10000', { blocked: 'All' });
    try {
      await s.deps.portals.client('default').deletePayment(paymentId);
      const parked = await paymentAt(s, paymentId, 'needs_attention', 30000);
      expect(parked.attention?.reason).toBe('erp_rejected');
      expect(parked.attention?.detail).toMatch(/^reversal .*blocked/);

      // post_unapplied / apply_to_invoice fit a refused application, not a refused reversal: refused, nothing recorded.
      for (const action of [{ action: 'post_unapplied' as const }, { action: 'apply_to_invoice' as const, invoiceNumber: inv.number }]) {
        await expect(resolve(s.ops, 'default', paymentId, { ...action, by: 'finance@cronus.example', why: 'wrong button' })).rejects.toMatchObject({
          status: 409,
          message: expect.stringContaining(`"${action.action}" does not resolve erp_rejected here (the ERP refused a reversal or refund); allowed: retry, skip`),
        });
      }
      const still = await paymentState(s.ops, 'default', paymentId);
      expect(still.stage).toBe('needs_attention');
      expect(still.decisions.filter((d) => d.by !== 'arsync')).toEqual([]);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await eventually(async () => (await listAttention(s.ops)).payments.some((r) => r.paymentId === paymentId), 10000, 'still in the attention list');
      expect(ledger(s, `${paymentId}-R`)).toEqual([]);
    } finally {
      s.bc.admin.updateCustomer('C10000', { blocked: '' });
    }

    // Unblocked, finance retries: the reversal is posted and the run ends settled.
    await resolve(s.ops, 'default', paymentId, { action: 'retry', by: 'finance@cronus.example', why: 'customer unblocked' });
    const settled = await paymentAt(s, paymentId, 'skipped', 30000);
    expect(settled.decisions.map((d) => `${d.by}:${d.action}`)).toEqual(['finance@cronus.example:retry', 'arsync:reverse']);
    expect(ledgerSum(s, `${paymentId}-R`)).toBe(inv.totalMinor);
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 10000, 'the payment run to finish');
  }, 60000);

  /** A payment to an invoice only the portal has: parked as unknown_invoice, nothing posted. */
  async function parkedPayment(amountMinor: number) {
    const known = await postErpInvoice(s, 'C10000', '10.00');
    const orphan = await portalOnlyInvoice(s, known.portalClientId, `PORTAL-WAIT-${Date.now()}`, amountMinor);
    const p = await apiPayment(s, known.portalClientId, amountMinor, [{ invoiceId: orphan.portalInvoiceId, amountMinor }]);
    await paymentAt(s, p.id, 'needs_attention');
    return { paymentId: p.id, handle: s.t.client.workflow.getHandle(paymentWorkflowId('default', p.id)) };
  }

  it('a retry of a payment waiting for a finance decision is refused (409) with what to do instead', async () => {
    const { paymentId } = await parkedPayment(3100);
    const api = await axios.post(
      `${s.apiUrl}/api/v1/payments/default/${paymentId}/retry`,
      { by: 'ops@cronus.example', why: 'portal was down' },
      { headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true },
    );
    expect(api.status).toBe(409);
    expect(api.data).toEqual({ error: 'conflict', message: expect.stringContaining('waiting for a finance decision (unknown_invoice); use resolve --action retry') });
    const cli = await runCli(s, ['payment', 'retry', 'default', paymentId, '--by', 'ops@cronus.example', '--why', 'portal was down']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('waiting for a finance decision');
    // The decision the message points to is what reaches the waiting run.
    await resolve(s.ops, 'default', paymentId, { action: 'skip', by: 'finance@cronus.example', why: 'customer paid twice' });
    expect((await paymentAt(s, paymentId, 'skipped')).decisions.map((d) => d.action)).toEqual(['skip']);
  }, 30000);

  it('finance\'s skip holds against what was observed during the wait (a repeated event, a drift sweep); nothing is posted', async () => {
    const { paymentId, handle } = await parkedPayment(3200);
    // The portal's event delivered again and a drift sweep's look, both while the payment waits: nothing changed.
    const body = await portalPaymentBody(s, paymentId);
    const hook = await axios.post(`${s.apiUrl}/webhooks/invoice-ninja/default/update_payment`, body, {
      headers: { [PORTAL_WEBHOOK_SECRET_HEADER]: s.config.env.PORTAL_WEBHOOK_SECRET },
      validateStatus: () => true,
    });
    expect(hook.status).toBeLessThan(300);
    await observePayment(s.ops, s.ops.companyId, 'default', paymentId, { source: 'manual', updatedAt: Math.floor(Date.now() / 1000), event: 'drift sweep: not posted in the ERP' });
    await eventually(async () => (await paymentState(s.ops, 'default', paymentId)).observations >= 3, 10000, 'both observations in the run');

    await resolve(s.ops, 'default', paymentId, { action: 'skip', by: 'finance@cronus.example', why: 'paid by mistake, refunded by the bank' });
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 15000, 'the payment run to finish');
    const done = await paymentState(s.ops, 'default', paymentId);
    expect(done.stage).toBe('skipped');
    expect(done.decisions.map((d) => `${d.by}:${d.action}`)).toEqual(['finance@cronus.example:skip']);
    expect(ledger(s, paymentId)).toEqual([]);
    expect((await listAttention(s.ops)).payments.some((r) => r.paymentId === paymentId)).toBe(false);
  }, 45000);

  it('a payment the portal does not know, skipped by finance after another look was asked for, stays closed', async () => {
    // A webhook for an id the portal does not have (a forged or mistyped delivery): parked as unknown_payment.
    const client = await s.deps.portals.client('default').findOrCreateClient('C10000', { name: 'Adatum', currency: 'USD' });
    const real = await apiPayment(s, client.id, 0);
    const forged = { ...(await portalPaymentBody(s, real.id)), id: `Zzunknown${Date.now()}` };
    await axios.post(`${s.apiUrl}/webhooks/invoice-ninja/default/create_payment`, forged, { headers: { [PORTAL_WEBHOOK_SECRET_HEADER]: s.config.env.PORTAL_WEBHOOK_SECRET } });
    const paymentId = forged.id as string;
    const parked = await paymentAt(s, paymentId, 'needs_attention', 20000);
    expect(parked.attention?.reason).toBe('unknown_payment');
    await observePayment(s.ops, s.ops.companyId, 'default', paymentId, { source: 'manual', updatedAt: Math.floor(Date.now() / 1000), event: 'drift sweep: not posted in the ERP' });
    await eventually(async () => (await paymentState(s.ops, 'default', paymentId)).observations >= 2, 10000, 'the second look asked for');

    await resolve(s.ops, 'default', paymentId, { action: 'skip', by: 'finance@cronus.example', why: 'not ours' });
    const handle = s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', 15000, 'the payment run to finish');
    const done = await paymentState(s.ops, 'default', paymentId);
    expect(done.stage).toBe('skipped');
    expect(done.decisions.map((d) => `${d.by}:${d.action}`)).toEqual(['finance@cronus.example:skip', 'arsync:skip']);
  }, 45000);
});

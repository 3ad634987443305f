import axios, { type AxiosInstance } from 'axios';
import { parseDecimal } from '../../src/domain/money';
import { listAttention } from '../../src/operations/attention';
import { OperationError } from '../../src/operations/context';
import { listPayments, resolve } from '../../src/operations/payments';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import { paymentWorkflowId } from '../../workflows/ids';
import type { PortalPaymentInput } from '../../workflows/portalPayment';
import { payOnPortal } from '../support/portalPay';
import { eventually, type TestStack } from '../support/stack';
import { apiPayment, ledger, paymentAt, paymentRuns, postErpInvoice, remaining, runCli, sleep, startPaymentStack, submissions } from './paymentFixtures';

// Re-posting a payment whose run ended with a reason (the auditor's case): with "Post Payments for Closed Invoices" off
// and no fee account, a payment to an invoice closed in the ERP ends skipped (closed_invoice) and a card payment's
// gateway fee ends posted with over_cap. Finance finds them on the attention list and decides with `payment resolve`:
// a new run carries the decision, posts at most once (the ERP read by external document number), and the payment
// leaves the list.

let s: TestStack;
let api: AxiosInstance;
beforeAll(async () => {
  s = await startPaymentStack({ settings: { payments: { feeAccountNo: null, postPaymentsForClosedInvoices: false } } });
  api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true });
}, 60000);
afterAll(async () => {
  await s?.close();
});

const FINANCE = 'finance@cronus.example';
const handle = (paymentId: string) => s.t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));

/** Whether finance's ended list (attention list, API and CLI) shows the payment. */
async function listedForFinance(paymentId: string): Promise<{ ops: boolean; api: boolean; cli: boolean; list: boolean }> {
  const ops = (await listAttention(s.ops, 1000)).endedPayments.some((r) => r.paymentId === paymentId);
  const res = await api.get('/api/v1/attention', { params: { limit: 1000 } });
  expect(res.status).toBe(200);
  const viaApi = (res.data.endedPayments as Array<{ paymentId: string }>).some((r) => r.paymentId === paymentId);
  const cli = await runCli(s, ['attention', '--limit', '1000']);
  expect(cli.code).toBe(0);
  const list = (await listPayments(s.ops, { ended: true, limit: 1000 })).some((r) => r.paymentId === paymentId);
  return { ops, api: viaApi, cli: cli.stdout.split('payments ended with a reason')[1]?.includes(paymentId) ?? false, list };
}

/** A 33.00 payment (no gateway fee) to an invoice closed in the ERP meanwhile: the run ends skipped, closed_invoice. */
async function skippedClosed() {
  const inv = await postErpInvoice(s, 'C20000', '33.00');
  s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '33.00' });
  const p = await apiPayment(s, inv.portalClientId, 3300, [{ invoiceId: inv.portalInvoiceId, amountMinor: 3300 }]);
  const state = await paymentAt(s, p.id, 'skipped', 20000);
  expect(state.attention).toEqual({ reason: 'closed_invoice', detail: expect.stringContaining(inv.number) });
  await eventually(async () => (await handle(p.id).describe()).status.name === 'COMPLETED', 10000, 'the run ended');
  return { inv, paymentId: p.id };
}

describe('re-posting a payment whose run ended with a reason', () => {
  it('skipped closed_invoice → listed for finance → resolve post_unapplied → posted unapplied once, decision in the new run, a second resolve refused, off the list', async () => {
    const { inv, paymentId } = await skippedClosed();
    await sleep(300);
    expect(ledger(s, paymentId)).toEqual([]);
    await eventually(async () => Object.values(await listedForFinance(paymentId)).every(Boolean), 15000, 'listed for finance (ops, API, CLI, payment list --ended)');
    const endedRun = (await handle(paymentId).describe()).runId;

    // An action closed_invoice does not allow is refused with why, and starts nothing.
    const wrong = await api.post(`/api/v1/payments/default/${paymentId}/resolve`, { action: 'treat_as_refund', by: FINANCE, why: 'wrong button' });
    expect(wrong.status).toBe(409);
    expect(wrong.data.message ?? wrong.data.error).toMatch(/"treat_as_refund" does not resolve closed_invoice.*allowed: post_unapplied, apply_to_invoice, skip, retry/);
    expect((await handle(paymentId).describe()).runId).toBe(endedRun);

    const ok = await runCli(s, ['payment', 'resolve', 'default', paymentId, '--action', 'post_unapplied', '--by', FINANCE, '--why', 'customer credit: the invoice was paid twice']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('re-posted by a new run (the run that ended skipped: closed_invoice)');

    const posted = await paymentAt(s, paymentId, 'posted', 20000);
    expect(posted.attention).toBeNull();
    expect(posted.repostOf).toEqual({ runId: endedRun, stage: 'skipped', reason: 'closed_invoice' });
    expect(posted.decisions[0]).toEqual(expect.objectContaining({ by: FINANCE, why: 'customer credit: the invoice was paid twice', action: 'post_unapplied' }));
    expect(posted.plan!.parts).toEqual([expect.objectContaining({ kind: 'unapplied', invoiceNumber: inv.number, amountMinor: 3300, why: 'finance_decision' })]);

    // In the ERP once, to the customer, unapplied; the closed invoice is left as it was.
    const entries = ledger(s, paymentId);
    expect(entries.map((e) => [parseDecimal(e.amount, 'USD'), e.customerNumber])).toEqual([[-3300, 'C20000']]);
    expect(s.bc.admin.listApplications().filter((a) => a.creditEntryNumber === entries[0]!.entryNumber)).toEqual([]);
    expect(remaining(s, inv.number)).toBe(0);
    expect(await submissions(s, paymentId)).toBe(1);

    // Who and why are in the new run's history, as its input.
    const started = ((await handle(paymentId).fetchHistory()).events ?? [])[0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString()) as PortalPaymentInput;
    expect(input.repost).toEqual({
      resolution: { action: 'post_unapplied', by: FINANCE, why: 'customer credit: the invoice was paid twice' },
      runId: endedRun,
      stage: 'skipped',
      reason: 'closed_invoice',
      invoiceNumbers: [inv.number],
    });
    await eventually(async () => (await handle(paymentId).describe()).status.name === 'COMPLETED', 10000, 'the new run ended');
    expect((await handle(paymentId).describe()).typedSearchAttributes.get(AttentionReason)).toBeUndefined();

    // A second decision is refused: the new run ended posted with no reason left.
    const again = await api.post(`/api/v1/payments/default/${paymentId}/resolve`, { action: 'post_unapplied', by: FINANCE, why: 'once more' });
    expect(again.status).toBe(409);
    expect(again.data.message ?? again.data.error).toMatch(/ended posted with no reason left for finance/);
    await sleep(500);
    expect(ledger(s, paymentId)).toHaveLength(1);
    expect(await paymentRuns(s, paymentId)).toHaveLength(2);

    await eventually(async () => Object.values(await listedForFinance(paymentId)).every((v) => !v), 15000, 'off the list');
  });

  it('two re-posts at once: one starts the new run, the other is refused; posted once', async () => {
    const { paymentId } = await skippedClosed();
    const decide = (why: string) => resolve(s.ops, 'default', paymentId, { action: 'post_unapplied', by: FINANCE, why });
    const results = await Promise.allSettled([decide('first'), decide('second')]);
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(OperationError);
    expect((refused[0]!.reason as OperationError).status).toBe(409);
    await paymentAt(s, paymentId, 'posted', 20000);
    await sleep(500);
    expect(ledger(s, paymentId).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-3300]);
    expect(await submissions(s, paymentId)).toBe(1);
    expect(await paymentRuns(s, paymentId)).toHaveLength(2);
  });

  it('posted with over_cap (a gateway fee with no fee account): the ERP has it, so only skip or retry; skip accepts it without posting again', async () => {
    const inv = await postErpInvoice(s, 'C10000', '40.00');
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '40.00' }]);
    expect(feeMinor).toBeGreaterThan(0);
    const first = await paymentAt(s, paymentId, 'posted', 20000);
    expect(first.attention?.reason).toBe('over_cap');
    await eventually(async () => (await handle(paymentId).describe()).typedSearchAttributes.get(Stage) === 'posted' && (await handle(paymentId).describe()).status.name === 'COMPLETED', 10000, 'ended posted');
    await eventually(async () => (await listedForFinance(paymentId)).ops, 15000, 'listed for finance');
    const before = ledger(s, paymentId).map((e) => e.entryNumber);
    expect(before).toHaveLength(1);

    const refused = await api.post(`/api/v1/payments/default/${paymentId}/resolve`, { action: 'post_unapplied', by: FINANCE, why: 'post the fee' });
    expect(refused.status).toBe(409);
    expect(refused.data.message ?? refused.data.error).toMatch(/the ERP has this payment's posting.*allowed: skip, retry/);

    // A retry reads both systems again and changes nothing finance has to know: the payment stays listed.
    const retried = await api.post(`/api/v1/payments/default/${paymentId}/resolve`, { action: 'retry', by: FINANCE, why: 'look again' });
    expect(retried.status).toBe(200);
    await eventually(async () => (await paymentRuns(s, paymentId)).length === 2 && (await handle(paymentId).describe()).status.name === 'COMPLETED', 15000, 'the retry run ended');
    expect((await paymentAt(s, paymentId, 'posted')).attention?.reason).toBe('over_cap');
    await eventually(async () => (await listedForFinance(paymentId)).ops, 15000, 'still listed for finance');

    const ok = await api.post(`/api/v1/payments/default/${paymentId}/resolve`, { action: 'skip', by: FINANCE, why: 'card fee booked by hand' });
    expect(ok.status).toBe(200);
    expect(ok.data.repostOf).toEqual(expect.objectContaining({ stage: 'posted', reason: 'over_cap' }));
    const after = await paymentAt(s, paymentId, 'posted', 20000);
    await eventually(async () => (await handle(paymentId).describe()).status.name === 'COMPLETED', 10000, 'the new run ended');
    expect(after.attention).toBeNull();
    expect(after.decisions[0]).toEqual(expect.objectContaining({ by: FINANCE, why: 'card fee booked by hand', action: 'skip' }));
    expect(after.note).toMatch(/the ERP has this payment's posting/);
    expect(ledger(s, paymentId).map((e) => e.entryNumber)).toEqual(before);
    expect(await submissions(s, paymentId)).toBe(1);
    await eventually(async () => !(await listedForFinance(paymentId)).ops, 15000, 'off the list');
  });
});

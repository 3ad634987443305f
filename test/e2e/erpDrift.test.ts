import axios from 'axios';
import { cancelInvoice, invoiceState } from '../../src/operations/invoices';
import { paymentState } from '../../src/operations/payments';
import { AttentionReason } from '../../src/temporal/searchAttributes';
import { driftSweep, type DriftSweepReport } from '../../workflows/driftSweep';
import type { ErpApplicationRow } from '../../activities/erpMirrorTypes';
import { bcSubscriptionWorkflowId, driftSweepWorkflowId, erpWatcherWorkflowId, invoiceWorkflowId } from '../../workflows/ids';
import { renewNowSignal } from '../../workflows/bcSubscription';
import { startServiceWorkflows } from '../../src/operations/services';
import { eventually, type TestStack } from '../support/stack';
import { paymentsOn, portalInvoice, postSynced, startErpStack, usd } from './erpFixtures';

// Drift injected on either side while the ERP watcher sleeps: found by the drift sweep and healed (an ERP payment missing in
// the portal, a mirrored portal payment deleted in the portal, a portal payment stuck before the ERP) or reported on the
// invoice workflow (AttentionReason=drift) and cleared once the balances agree. Also "Filter Unsynced Applications".

let s: TestStack;
let api: ReturnType<typeof axios.create>;

beforeAll(async () => {
  s = await startErpStack({ settings: { polling: { erpLedgerInterval: '1h' }, payments: { maxPaymentMinor: 10000 } } });
  api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true });
}, 90000);
afterAll(async () => {
  await s?.close();
});

const sweep = async (): Promise<DriftSweepReport> => {
  const res = await api.post('/api/v1/erp/drift-sweep', { by: 'ana', waitSeconds: 30 });
  expect(res.status).toBe(200);
  return res.data.report as DriftSweepReport;
};
const row = (r: DriftSweepReport, number: string) => r.rows.find((x) => x.invoiceNumber === number);
const attentionOf = async (number: string) =>
  (await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, number)).describe()).typedSearchAttributes.get(AttentionReason) ?? null;

describe('drift sweep', () => {
  it('heals an ERP payment the portal missed, and a mirrored payment deleted in the portal', async () => {
    const inv = await postSynced(s, 'C10000', '90.00');
    const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '35.00' });

    const first = await sweep();
    expect(row(first, inv.number)).toMatchObject({ status: 'changed', decision: 'heal_portal', recordedMinor: usd('35.00'), references: [`erp:${pay.entryNumber}`] });
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor - usd('35.00'));
    await eventually(async () => (await invoiceState(s.ops, inv.number)).erpEntries.includes(pay.entryNumber), 10000, 'the invoice workflow told');

    // Drift on the portal side: the mirrored payment is deleted in the portal.
    const [mirrored] = await paymentsOn(s, inv);
    await s.deps.portals.client('default').deletePayment(mirrored.id);
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor);
    const second = await sweep();
    expect(row(second, inv.number)).toMatchObject({ status: 'changed', references: [`erp:${pay.entryNumber}.2`] });
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor - usd('35.00'));

    // In line now: a third sweep changes nothing.
    const third = await sweep();
    // Found in line: listed by number, without a row.
    expect(third.inSyncInvoices).toContain(inv.number);
    expect(row(third, inv.number)).toBeUndefined();
    expect((await paymentsOn(s, inv)).filter((p) => !p.isDeleted)).toHaveLength(1);
  });

  it('reports what the rules cannot heal on the invoice workflow, and clears it once the balances agree', async () => {
    const inv = await postSynced(s, 'C20000', '64.00');
    // A payment recorded in the portal (a cheque), posted in the ERP by its payment workflow ...
    const cheque = await s.deps.portals.client('default').createPayment({
      clientId: inv.portalClientId,
      amountMinor: usd('30.00'),
      currency: 'USD',
      invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: usd('30.00') }],
      idempotencyKey: `cheque-${inv.number}`,
      transactionReference: 'CHQ-1001',
      date: new Date().toISOString().slice(0, 10),
    });
    await eventually(async () => (await paymentState(s.ops, 'default', cheque.id)).stage === 'posted', 20000, 'the cheque posted in the ERP');
    // ... then unapplied inside the ERP by a user: the portal still shows it paid, the ERP does not.
    const receipt = s.bc.admin.listLedgerEntries().find((e) => e.externalDocumentNumber === cheque.id && e.documentType === 'Payment')!;
    s.bc.admin.unapplyPayment({ entryNumber: receipt.entryNumber });

    const found = await sweep();
    expect(row(found, inv.number)).toMatchObject({ status: 'drift', decision: 'heal_erp', unresolvedMinor: usd('30.00') });
    expect(found.flagged).toContain(inv.number);
    // Never echoed: the portal payment is untouched and nothing was recorded from the ERP.
    expect((await paymentsOn(s, inv)).map((p) => [p.id, p.isDeleted])).toEqual([[cheque.id, false]]);
    const flagged = await eventually(async () => {
      const st = await invoiceState(s.ops, inv.number);
      return st.attention?.reason === 'drift' && st;
    }, 10000, 'AttentionReason=drift on the invoice');
    expect(flagged.stage).toBe('needs_attention');
    await eventually(async () => (await attentionOf(inv.number)) === 'drift', 10000, 'the drift attention indexed');

    // Finance re-applies the money in the ERP: the next sweep finds the balances agree and clears the attention.
    s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '30.00' });
    const cleared = await sweep();
    expect(cleared.inSyncInvoices).toContain(inv.number);
    expect(cleared.cleared).toContain(inv.number);
    await eventually(async () => (await invoiceState(s.ops, inv.number)).attention === null, 10000, 'attention cleared');
    expect((await invoiceState(s.ops, inv.number)).stage).toBe('partially_paid');
  });

  it('wakes an invoice workflow that missed a notification (cancelled in the ERP while Business Central could not reach us)', async () => {
    const inv = await postSynced(s, 'C20000', '42.00');
    await eventually(async () => (await invoiceState(s.ops, inv.number)).stage === 'link_sent', 10000, 'link_sent');
    for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
    try {
      s.bc.admin.cancelInvoice(inv.number);
      await new Promise((r) => setTimeout(r, 1000));
      // Nobody told the invoice, and it keeps no timer of its own.
      expect((await invoiceState(s.ops, inv.number)).stage).toBe('link_sent');
      const report = await sweep();
      expect(report.woken).toContain(inv.number);
      // Healed, not reported: the running workflow is woken to cancel it in the portal, never flagged as drift.
      expect(row(report, inv.number)).toMatchObject({ status: 'changed', invoiceWorkflow: 'woken' });
      expect(report.flagged).not.toContain(inv.number);
      await eventually(async () => (await invoiceState(s.ops, inv.number)).stage === 'cancelled', 10000, 'the invoice cancelled after the wake-up');
      expect((await invoiceState(s.ops, inv.number)).timeline.map((e) => e.kind)).not.toContain('attention');
      expect((await portalInvoice(s, inv.portalInvoiceId)).statusId).toBe(5);
      // In line now: the next sweep wakes nothing.
      expect((await sweep()).woken).not.toContain(inv.number);
    } finally {
      await s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).signal(renewNowSignal);
      await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription again');
    }
  });

  it('starts again an invoice that ended at posted when the ERP reopened it (money due) or credited it while its portal invoice is open', async () => {
    const due = await postSynced(s, 'C10000', '66.00');
    const credited = await postSynced(s, 'C10000', '77.00');
    // Paid in full in the ERP (the notification wakes the watcher): both workflows end at posted.
    const payments = [due, credited].map((inv) => s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: (inv.totalMinor / 100).toFixed(2) }));
    const handle = (number: string) => s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, number));
    for (const inv of [due, credited]) {
      await eventually(async () => (await handle(inv.number).describe()).status.name === 'COMPLETED', 20000, `invoice ${inv.number} completed`);
      expect(await handle(inv.number).result()).toMatchObject({ stage: 'posted' });
    }
    for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
    try {
      // Nobody is told (no notification, the watcher sleeps). One has its payment unapplied: money due again. The other
      // too, its portal payment reduced as the ERP mirror of a build before this one left it, then credited in full:
      // cancelled in the ERP, open in the portal.
      s.bc.admin.unapplyPayment({ entryNumber: payments[0].entryNumber });
      s.bc.admin.unapplyPayment({ entryNumber: payments[1].entryNumber });
      const [mirrored] = await paymentsOn(s, credited);
      await s.deps.portals.client('default').deletePayment(mirrored.id);
      s.bc.admin.creditInvoice(credited.number);
      expect((await portalInvoice(s, credited.portalInvoiceId)).balance.minor).toBe(credited.totalMinor);

      const report = await sweep();
      expect(row(report, due.number)).toMatchObject({ status: 'changed', invoiceWorkflow: 'reopened', erpRemainingMinor: due.totalMinor });
      expect(row(report, credited.number)).toMatchObject({ status: 'changed', invoiceWorkflow: 'reopened', detail: expect.stringMatching(/credited in the ERP, open in the portal/) });
      expect(report.woken).toEqual(expect.arrayContaining([due.number, credited.number]));
      expect(report.flagged).not.toContain(credited.number);

      // The first runs again at the due stage, with the ERP amount and why.
      const st = await eventually(async () => {
        const x = await invoiceState(s.ops, due.number);
        return x.stage !== 'posted' && x.erpRemainingMinor === due.totalMinor && x;
      }, 10000, 'the reopened invoice at the due stage');
      expect(['partially_paid', 'link_sent']).toContain(st.stage);
      expect(st.timeline.filter((e) => e.kind === 'reopened')).toEqual([expect.objectContaining({ detail: expect.stringMatching(/^drift sweep: 66\.00 USD due again/) })]);
      expect((await portalInvoice(s, due.portalInvoiceId)).balance.minor).toBe(due.totalMinor);
      // The second cancels its portal invoice and ends cancelled.
      await eventually(async () => (await portalInvoice(s, credited.portalInvoiceId)).statusId === 5, 10000, 'the credited invoice cancelled in the portal');
      await eventually(async () => (await handle(credited.number).describe()).status.name === 'COMPLETED', 10000, 'the credited invoice ended');
      expect(await handle(credited.number).result()).toMatchObject({ stage: 'cancelled', cancelled: true });

      // In line now: the next sweep starts nothing (a cancelled invoice stays cancelled, a running one is not restarted).
      const next = await sweep();
      expect(next.woken).not.toContain(credited.number);
      expect(next.woken).not.toContain(due.number);
      for (const inv of [due, credited]) {
        const runs = [];
        for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, inv.number)}'` })) runs.push(wf.runId);
        expect(runs).toHaveLength(2);
      }
    } finally {
      await s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).signal(renewNowSignal);
      await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription again');
    }
  });

  it('an invoice cancelled in the portal by an operator, unpaid, is reported as drift with nothing paid on either side', async () => {
    const inv = await postSynced(s, 'C20000', '100.00');
    await eventually(async () => (await invoiceState(s.ops, inv.number)).stage === 'link_sent', 10000, 'link_sent');
    await cancelInvoice(s.ops, inv.number, 'bob', 'sent by mistake');
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).statusId === 5, 10000, 'cancelled in the portal');
    const report = await sweep();
    const r = report.rows.find((x) => x.invoiceNumber === inv.number);
    // A cancelled invoice's balance is 0: that is no payment.
    expect(r).toMatchObject({ status: 'drift', erpPaidMinor: 0, portalPaidMinor: 0 });
  });

  it('nudges a portal payment that has not reached the ERP', async () => {
    const inv = await postSynced(s, 'C10000', '300.00');
    // Above the cap (100.00): its payment workflow waits for finance and posts nothing.
    const big = await s.deps.portals.client('default').createPayment({
      clientId: inv.portalClientId,
      amountMinor: usd('150.00'),
      currency: 'USD',
      invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: usd('150.00') }],
      idempotencyKey: `wire-${inv.number}`,
      transactionReference: 'WIRE-77',
      date: new Date().toISOString().slice(0, 10),
    });
    const parked = await eventually(async () => {
      const p = await paymentState(s.ops, 'default', big.id);
      return p.stage === 'needs_attention' && p;
    }, 20000, 'the payment waiting for finance');
    const report = await s.t.client.workflow.execute(driftSweep, {
      taskQueue: s.config.env.TEMPORAL_TASK_QUEUE,
      workflowId: driftSweepWorkflowId(s.ops.companyId, `test-${Date.now()}`),
      args: [{ companyId: s.ops.companyId, by: 'test', retryUnpostedAfterMs: 0 }],
    });
    // The balances agree once it is posted: not drift, but it is retried.
    expect(row(report, inv.number)).toMatchObject({ status: 'changed', decision: 'in_sync', retriedPayments: [big.id] });
    await eventually(async () => (await paymentState(s.ops, 'default', big.id)).observations > parked.observations, 10000, 'the payment workflow nudged');
  });

  it("mirrors each customer's invoices in one batch, so one ERP payment over several of them stays one portal payment", async () => {
    // Invoices of two customers, numbered alternately: batches of two by number would split both customers.
    for (const customer of ['C10000', 'C20000', 'C10000', 'C20000', 'C10000']) await postSynced(s, customer, '20.00');
    const handle = await s.t.client.workflow.start(driftSweep, {
      taskQueue: s.ops.taskQueue,
      workflowId: driftSweepWorkflowId(s.ops.companyId, `batches-${Date.now()}`),
      args: [{ companyId: s.ops.companyId, by: 'ana', batchSize: 2 }],
    });
    await handle.result();
    const batches = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'mirrorInvoices')
      .map((a) => (JSON.parse(Buffer.from(a!.input!.payloads![0].data as Uint8Array).toString('utf8')) as { invoiceNumbers: string[] }).invoiceNumbers);
    const customerOf = (n: string) => s.bc.admin.getInvoice(n).customerNumber;
    const batchesOfCustomer = new Map<string, Set<number>>();
    batches.forEach((b, i) => b.forEach((n) => batchesOfCustomer.set(customerOf(n), (batchesOfCustomer.get(customerOf(n)) ?? new Set()).add(i))));
    expect(batchesOfCustomer.get('C10000')?.size).toBe(1);
    expect(batchesOfCustomer.get('C20000')?.size).toBe(1);
    expect(batches.flat().sort()).toEqual([...new Set(batches.flat())].sort());
  });
});

describe('unsynced ERP applications', () => {
  // The ERP watcher would mirror the payment before it can be listed as unsynced (any posted invoice's notification
  // wakes it): it is stopped for this test and started again afterwards.
  afterAll(async () => {
    await startServiceWorkflows(s.ops, s.deps.portals);
  });

  it('lists ERP applications not yet in the portal and syncs the selected ones; a reset takes one out of the portal for a sync to record afresh', async () => {
    const other = await postSynced(s, 'C20000', '30.00');
    const inv = await postSynced(s, 'C20000', '48.00');
    await s.t.client.workflow.getHandle(erpWatcherWorkflowId(s.ops.companyId)).terminate('the test lists unsynced applications');
    // Another payment of the same customer, of the same amount, a moment before: each is linked to its own invoice.
    const otherPay = s.bc.admin.recordPayment({ invoiceNumber: other.number, amount: '18.00' });
    await new Promise((r) => setTimeout(r, 300));
    const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '18.00', postingDate: '2025-06-01' });

    const listed = await api.get('/api/v1/erp/applications');
    expect(listed.status).toBe(200);
    const rows = listed.data.applications as ErpApplicationRow[];
    const mine = rows.find((r) => r.entryNumber === pay.entryNumber);
    expect(mine).toMatchObject({
      kind: 'application',
      reference: `erp:${pay.entryNumber}`,
      customerNumber: 'C20000',
      documentType: 'Payment',
      documentNumber: pay.documentNumber,
      postingDate: '2025-06-01',
      amountMinor: usd('18.00'),
      invoices: [{ invoiceNumber: inv.number, amountMinor: usd('18.00') }],
      portalPaymentId: null,
    });
    expect(rows.find((r) => r.entryNumber === otherPay.entryNumber)?.invoices).toEqual([{ invoiceNumber: other.number, amountMinor: usd('18.00') }]);
    // Listing changed nothing.
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor);

    const synced = await api.post('/api/v1/erp/applications/sync', { entries: [pay.entryNumber], by: 'ana' });
    expect(synced.status).toBe(200);
    expect(synced.data.applications).toEqual([expect.objectContaining({ entryNumber: pay.entryNumber, action: 'recorded', portalPaymentId: expect.any(String) })]);
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor - usd('18.00'));

    const again = await api.get('/api/v1/erp/applications');
    expect((again.data.applications as ErpApplicationRow[]).some((r) => r.entryNumber === pay.entryNumber)).toBe(false);
    const twice = await api.post('/api/v1/erp/applications/sync', { entries: [pay.entryNumber], by: 'ana' });
    expect(twice.status).toBe(409);
    const bad = await api.post('/api/v1/erp/applications/sync', { entries: ['x'], by: 'ana' });
    expect(bad.status).toBe(400);
    expect(bad.data.issues[0].field).toBe('entries.0');

    // "Modify Sync Status" of the application: the portal payment is deleted and the entry is unsynced again; a sync
    // records it afresh under the next reference (the portal keeps the deleted one's key).
    const recorded = synced.data.applications[0].portalPaymentId as string;
    const noWhy = await api.post('/api/v1/erp/applications/reset', { entries: [pay.entryNumber], by: 'ana' });
    expect(noWhy.status).toBe(400);
    expect(noWhy.data.issues[0].field).toBe('why');
    const reset = await api.post('/api/v1/erp/applications/reset', { entries: [pay.entryNumber, otherPay.entryNumber, 999999], by: 'ana', why: 'recorded on the wrong invoice by hand' });
    expect(reset.status).toBe(200);
    expect(reset.data).toMatchObject({ mode: 'reset', by: 'ana', why: 'recorded on the wrong invoice by hand' });
    expect(reset.data.resets).toEqual([
      {
        entryNumber: pay.entryNumber,
        status: 'deleted',
        customerNumber: 'C20000',
        payments: [{ connection: 'default', portalPaymentId: recorded, reference: `erp:${pay.entryNumber}`, amountMinor: usd('18.00'), currency: 'USD', invoiceIds: [inv.portalInvoiceId] }],
      },
      { entryNumber: otherPay.entryNumber, status: 'not_in_portal', customerNumber: 'C20000', payments: [] },
      { entryNumber: 999999, status: 'not_found', customerNumber: null, payments: [] },
    ]);
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor);
    expect((await s.deps.portals.client('default').getPayment(recorded)).isDeleted).toBe(true);
    const unsynced = await api.get('/api/v1/erp/applications');
    expect((unsynced.data.applications as ErpApplicationRow[]).find((r) => r.entryNumber === pay.entryNumber)).toMatchObject({ portalPaymentId: null });
    const resynced = await api.post('/api/v1/erp/applications/sync', { entries: [pay.entryNumber], by: 'ana' });
    expect(resynced.status).toBe(200);
    expect(resynced.data.applications).toEqual([expect.objectContaining({ entryNumber: pay.entryNumber, action: 'recorded', reference: `erp:${pay.entryNumber}.2` })]);
    expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor - usd('18.00'));
    expect((await paymentsOn(s, inv)).filter((p) => !p.isDeleted).map((p) => p.transactionReference)).toEqual([`erp:${pay.entryNumber}.2`]);
  });
});

describe('the fast path', () => {
  it('a payment in full reaches the portal at once: its salesInvoices notification wakes the sleeping watcher', async () => {
    const inv = await postSynced(s, 'C10000', '55.00');
    const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount: '55.00' });
    const paid = await eventually(async () => {
      const p = await portalInvoice(s, inv.portalInvoiceId);
      return p.balance.minor === 0 && p;
    }, 10000, 'the portal invoice paid without waiting for the hourly poll');
    expect(paid.status).toBe('paid');
    expect((await paymentsOn(s, inv)).map((p) => p.transactionReference)).toEqual([`erp:${pay.entryNumber}`]);
  });
});

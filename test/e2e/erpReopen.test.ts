import type { Client } from '@temporalio/client';
import axios from 'axios';
import { invoiceState } from '../../src/operations/invoices';
import { onErpInvoicesChanged } from '../../src/operations/erpInvoiceChanged';
import { AmountDue, Stage } from '../../src/temporal/searchAttributes';
import type { InvoiceState } from '../../workflows/invoiceTypes';
import { bcSubscriptionWorkflowId, erpWatcherWorkflowId, invoiceWorkflowId } from '../../workflows/ids';
import { renewNowSignal } from '../../workflows/bcSubscription';
import { startServiceWorkflows } from '../../src/operations/services';
import { reopenEndedInvoice } from '../../src/temporal/starters';
import { eventually, useStack, type TestStack } from '../support/stack';
import { paymentsOn, portalInvoice, postSynced, startErpStack, watcherPolls, type Synced } from './erpFixtures';

// An invoice whose workflow ended at posted (paid in full) that the ERP reopens afterwards: finance unapplies the payment
// (money due again), then credits the invoice in full. The BC notification and the ERP watcher start a new run of the
// invoice's workflow carrying the ended run's state; it shows what is due, and cancels the portal invoice once the ERP
// credits it. Duplicate notifications, the watcher and a drift sweep at once start one run, and a cancelled invoice stays
// cancelled.

let s: TestStack;
useStack(() => startErpStack(), (stack) => (s = stack), 90000);

const handle = (number: string) => s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, number));
const runsOf = async (number: string) => {
  const runs: string[] = [];
  for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, number)}'` })) runs.push(wf.runId);
  return runs;
};
/** Paid in full in the ERP: the watcher mirrors it, the workflow reaches posted and ends. */
async function paidAndPosted(inv: Synced, amount: string) {
  const pay = s.bc.admin.recordPayment({ invoiceNumber: inv.number, amount });
  await eventually(async () => (await handle(inv.number).describe()).status.name === 'COMPLETED', 20000, 'the invoice workflow completed');
  const ended = (await handle(inv.number).result()) as InvoiceState;
  expect(ended.stage).toBe('posted');
  expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(0);
  return pay;
}
/**
 * The running run once it shows `remaining` due on both sides (the portal's balance follows the watcher's mirror of the
 * unapplication, which may come after the restart), indexed (Stage, AmountDue) as its state says.
 */
async function reopenedWith(number: string, remaining: number): Promise<InvoiceState> {
  return eventually(async () => {
    const d = await handle(number).describe();
    if (d.status.name !== 'RUNNING') return false;
    const st = await invoiceState(s.ops, number);
    const indexed = d.typedSearchAttributes.get(Stage) === st.stage && d.typedSearchAttributes.get(AmountDue) === remaining;
    return st.erpRemainingMinor === remaining && st.portalBalanceMinor === remaining && indexed && st;
  }, 20000, `invoice ${number} running again with ${remaining} due`);
}

/**
 * Paid in full in the ERP and posted; then, with no BC notification and no watcher, the payment unapplied in the ERP and
 * its mirrored portal payment gone (as the watcher would have done, telling only the ended run). `body` runs in that
 * state; the notification and the watcher come back after it.
 */
async function unappliedWhileUnwatched(inv: Synced, amount: string, body: () => Promise<void>) {
  const pay = await paidAndPosted(inv, amount);
  for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
  await s.t.client.workflow.getHandle(erpWatcherWorkflowId(s.ops.companyId)).terminate('test: watcher down');
  try {
    s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
    const [mirrored] = await paymentsOn(s, inv);
    await s.deps.portals.client('default').deletePayment(mirrored!.id);
    await body();
  } finally {
    await startServiceWorkflows(s.ops, s.deps.portals);
    await s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).signal(renewNowSignal);
    await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription again');
  }
}

describe('an invoice reopened in the ERP after its workflow ended at posted', () => {
  it('a payment unapplied: a new run at the due stage with the ERP amount, saying why; a full credit memo then cancels the portal invoice for good', async () => {
    const inv = await postSynced(s, 'C10000', '120.00');
    const pay = await paidAndPosted(inv, '120.00');
    const [firstRun] = await runsOf(inv.number);

    s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
    expect(s.bc.admin.getInvoice(inv.number)).toMatchObject({ status: 'Open', remaining: '120.00' });

    const st = await reopenedWith(inv.number, inv.totalMinor);
    expect(['partially_paid', 'link_sent']).toContain(st.stage);
    expect(st.cancelled).toBe(false);
    // The ended run's state carried over (its timeline, the portal invoice), and why it runs again.
    expect(st.portal?.invoiceId).toBe(inv.portalInvoiceId);
    const kinds = st.timeline.map((e) => e.kind);
    expect(kinds.indexOf('posted')).toBeGreaterThanOrEqual(0);
    const reopened = st.timeline.filter((e) => e.kind === 'reopened');
    expect(reopened).toEqual([expect.objectContaining({ by: 'erp', detail: expect.stringMatching(/120\.00 USD due again/) })]);
    expect(kinds.lastIndexOf('reopened')).toBeGreaterThan(kinds.lastIndexOf('posted'));
    // The portal shows the money due again (the watcher removed the unapplied payment there).
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).balance.minor === inv.totalMinor, 15000, 'the portal balance back to the total');
    expect(await runsOf(inv.number)).toHaveLength(2);

    // Credited in full in the ERP: the portal invoice is cancelled and the workflow ends cancelled.
    s.bc.admin.creditInvoice(inv.number);
    expect(s.bc.admin.getInvoice(inv.number)).toMatchObject({ status: 'Paid' });
    await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).statusId === 5, 15000, 'the portal invoice cancelled');
    await eventually(async () => (await handle(inv.number).describe()).status.name === 'COMPLETED', 15000, 'the invoice workflow ended');
    const ended = (await handle(inv.number).result()) as InvoiceState;
    expect(ended).toMatchObject({ stage: 'cancelled', cancelled: true });
    expect(ended.timeline.filter((e) => e.kind === 'cancelled')).toEqual([expect.objectContaining({ by: 'erp', detail: 'credited in the ERP' })]);

    // Cancelled for good: the watcher, a drift sweep and the notification again start nothing.
    await watcherPolls(s, 2);
    const api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` } });
    await api.post('/api/v1/erp/drift-sweep', { by: 'ana', waitSeconds: 30 });
    const [again] = await onErpInvoicesChanged({ bc: s.deps.bc, temporal: s.deps.temporal }, s.ops.companyId, [await s.deps.bc.getSalesInvoiceByNumber(inv.number, { lines: false }).then((i) => i!)], 1);
    expect(again.outcome).toBe(`${inv.number}: completed`);
    const runs = await runsOf(inv.number);
    expect(runs).toHaveLength(2);
    expect(runs).toContain(firstRun);
    expect((await handle(inv.number).describe()).status.name).toBe('COMPLETED');
  });

  describe('with no notification from Business Central', () => {
    afterEach(async () => {
      await startServiceWorkflows(s.ops, s.deps.portals);
      await s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).signal(renewNowSignal);
      await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription again');
    });

    it('the ERP watcher starts it again when it mirrors the unapplication', async () => {
      const inv = await postSynced(s, 'C20000', '45.00');
      const pay = await paidAndPosted(inv, '45.00');
      for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
      s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
      const st = await reopenedWith(inv.number, inv.totalMinor);
      expect(st.timeline.filter((e) => e.kind === 'reopened')).toEqual([expect.objectContaining({ detail: expect.stringMatching(/^ERP watcher: 45\.00 USD due again/) })]);
      expect((await portalInvoice(s, inv.portalInvoiceId)).balance.minor).toBe(inv.totalMinor);
    });

    it('credited in full after it ended, its portal invoice open: the ERP watcher starts it again and it cancels the portal invoice', async () => {
      const inv = await postSynced(s, 'C20000', '35.00');
      const pay = await paidAndPosted(inv, '35.00');
      for (const sub of await s.deps.bc.listSubscriptions()) await s.deps.bc.deleteSubscription(sub.subscriptionId);
      // The watcher stopped meanwhile: the payment unapplied, its portal payment reduced as a build before this one left
      // it (the invoice workflow ended, still at posted), then the invoice credited in full.
      await s.t.client.workflow.getHandle(erpWatcherWorkflowId(s.ops.companyId)).terminate('the test changes the ERP behind its back');
      s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
      const [mirrored] = await paymentsOn(s, inv);
      await s.deps.portals.client('default').deletePayment(mirrored.id);
      s.bc.admin.creditInvoice(inv.number);
      expect((await handle(inv.number).describe()).status.name).toBe('COMPLETED');

      // A new watcher reads the entries changed within its overlap.
      await startServiceWorkflows(s.ops, s.deps.portals);
      await eventually(async () => (await portalInvoice(s, inv.portalInvoiceId)).statusId === 5, 20000, 'the portal invoice cancelled');
      await eventually(async () => (await handle(inv.number).describe()).status.name === 'COMPLETED', 15000, 'the invoice workflow ended');
      const ended = (await handle(inv.number).result()) as InvoiceState;
      expect(ended).toMatchObject({ stage: 'cancelled', cancelled: true });
      expect(ended.timeline.filter((e) => e.kind === 'reopened')).toEqual([
        expect.objectContaining({ detail: 'ERP watcher: credited in the ERP while the portal invoice is open' }),
      ]);
      expect(await runsOf(inv.number)).toHaveLength(2);
    });
  });

  it("reopened by a drift sweep after the unapplication went to the ended run: the ended run's ERP entry no longer counts as paid", async () => {
    const inv = await postSynced(s, 'C20000', '45.00');
    await unappliedWhileUnwatched(inv, '45.00', async () => {
      const api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` } });
      await api.post('/api/v1/erp/drift-sweep', { by: 'ana', waitSeconds: 30 });
      const st = await reopenedWith(inv.number, inv.totalMinor);
      // The ended run's ERP entry no longer pays anything: the invoice is back before payment.
      expect(st.erpEntries).toEqual([]);
      expect(['link_sent', 'viewed']).toContain(st.stage);
    });
  });

  it('a caller that read the ended run before another reopened it (that run ending cancelled) does not start a third run', async () => {
    const inv = await postSynced(s, 'C20000', '35.00');
    await unappliedWhileUnwatched(inv, '35.00', async () => {
      s.bc.admin.creditInvoice(inv.number);
      // Caller B is slow between reading the ended run's result and starting (a busy frontend, a pause).
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slowClient = {
        workflow: {
          start: s.t.client.workflow.start.bind(s.t.client.workflow),
          getHandle: (...args: Parameters<Client['workflow']['getHandle']>) => {
            const h = s.t.client.workflow.getHandle(...args);
            return new Proxy(h, {
              get(target, prop) {
                if (prop === 'result') return async () => Promise.all([target.result(), gate]).then(([r]) => r);
                const v = Reflect.get(target, prop) as unknown;
                return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
              },
            });
          },
        },
      } as unknown as Client;
      const b = reopenEndedInvoice({ client: slowClient, taskQueue: s.deps.temporal.taskQueue }, s.ops.companyId, inv.number, 'caller B');
      await new Promise((r) => setTimeout(r, 500));
      // Caller A reopens; its run cancels the portal invoice (credited in the ERP) and ends cancelled.
      expect(await reopenEndedInvoice(s.deps.temporal, s.ops.companyId, inv.number, 'caller A')).toBe('reopened');
      await eventually(async () => (await handle(inv.number).describe()).status.name === 'COMPLETED' && (await runsOf(inv.number)).length === 2, 20000, 'the reopened run ended');
      expect(((await handle(inv.number).result()) as InvoiceState).stage).toBe('cancelled');
      release();
      expect(await b).toBe('ended');
      expect(await runsOf(inv.number)).toHaveLength(2);
      expect((await portalInvoice(s, inv.portalInvoiceId)).statusId).toBe(5);
    });
  });

  it('duplicate notifications, the ERP watcher and a drift sweep at once start one run', async () => {
    const inv = await postSynced(s, 'C20000', '75.00');
    const pay = await paidAndPosted(inv, '75.00');
    const erpInvoice = s.bc.admin.getInvoice(inv.number);
    const [sub] = await s.deps.bc.listSubscriptions();
    const item = {
      subscriptionId: sub!.subscriptionId,
      clientState: s.config.env.BC_WEBHOOK_CLIENT_STATE,
      expirationDateTime: sub!.expirationDateTime,
      resource: `api/v2.0/companies(${s.ops.companyId})/salesInvoices(${erpInvoice.id})`,
      changeType: 'updated',
      lastModifiedDateTime: new Date().toISOString(),
    };
    const api = axios.create({ baseURL: s.apiUrl, headers: { authorization: `Bearer ${s.config.env.API_TOKEN}` }, validateStatus: () => true });

    // Business Central notifies by itself too (and pokes the watcher): everything below races with it.
    s.bc.admin.unapplyPayment({ entryNumber: pay.entryNumber });
    const read = (await s.deps.bc.getSalesInvoiceByNumber(inv.number, { lines: false }))!;
    const deliveries = await Promise.all([
      ...Array.from({ length: 4 }, () => api.post('/webhooks/business-central', { value: [item] })),
      api.post('/webhooks/business-central', { value: [item, item] }),
      ...Array.from({ length: 3 }, () => onErpInvoicesChanged({ bc: s.deps.bc, temporal: s.deps.temporal }, s.ops.companyId, [read, read], 2)),
      api.post('/api/v1/erp/drift-sweep', { by: 'ana', waitSeconds: 30 }),
    ]);
    for (const d of deliveries) if (d && typeof d === 'object' && 'status' in d) expect(d.status).toBeLessThan(300);

    const st = await reopenedWith(inv.number, inv.totalMinor);
    await watcherPolls(s, 2);
    expect(await runsOf(inv.number)).toHaveLength(2);
    const now = await invoiceState(s.ops, inv.number);
    expect(now.timeline.filter((e) => e.kind === 'reopened')).toHaveLength(1);
    expect(now.stage).toBe(st.stage);
  });
});

import { setOptIn, syncCustomers } from '../../src/operations/customers';
import { customerWorkflowId } from '../../workflows/ids';
import { ensurePortalClientUpdate } from '../../workflows/customer';
import { eventually, startStack, useStack, type TestStack } from '../support/stack';
import { sleep } from '../support/wait';

// The customer workflow's handlers that change the customer run one at a time, in the order they came: two invoices
// asking at once, or operators syncing while a sync runs, never create the client or upload an attachment twice.

let s: TestStack;

useStack(() => startStack(), (stack) => (s = stack), 90000);

/** The workflow task (its completed event id) that scheduled each customer sync, in history order. */
async function syncsByTask(number: string): Promise<number[]> {
  const h = await s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, number)).fetchHistory();
  return (h.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a) => a?.activityType?.name === 'syncCustomerToPortal')
    .map((a) => Number(a!.workflowTaskCompletedEventId));
}
const portalDocuments = async (number: string) => (await s.deps.portals.client('default').findClientByNumber(number))!.documents.map((d) => d.name).sort();

describe('customer workflow handlers', () => {
  it('two invoices asking for the portal client in one workflow task: one sync, each attachment once', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Queue Alpha' });
    s.bc.admin.addCustomerAttachment(c.number, { fileName: 'a.pdf', content: '%PDF a' });
    s.bc.admin.addCustomerAttachment(c.number, { fileName: 'b.pdf', content: '%PDF b' });
    const [opted] = await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    expect(opted.lastSync?.status).toBe('missing_email');
    s.bc.admin.updateCustomer(c.number, { email: 'alpha@queue.example' });

    // With the worker away, both Updates are admitted in the same workflow task when it comes back.
    await s.stopWorker();
    const h = s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, c.number));
    const asks = [1, 2].map((i) => h.executeUpdate(ensurePortalClientUpdate, { args: [{ invoiceWorkflowId: `waiting-invoice-${i}` }] }));
    await sleep(1000);
    await s.restartWorker();
    const answers = await Promise.all(asks);
    expect(answers.map((a) => a.status)).toEqual(['ready', 'ready']);
    expect(new Set(answers.map((a) => (a.status === 'ready' ? a.clientId : '')))).toHaveProperty('size', 1);
    // The opt-in's sync, then one more: the second ask found the client ready.
    expect(await syncsByTask(c.number)).toHaveLength(2);
    expect(await portalDocuments(c.number)).toEqual(['a.pdf', 'b.pdf']);
  }, 60000);

  it('"Sync Customer" twice while a sync runs: they run after it, one at a time, and a new attachment goes up once', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Queue Beta', email: 'beta@queue.example' });
    s.bc.admin.addCustomerAttachment(c.number, { fileName: 'terms.pdf', content: '%PDF terms' });
    // The opt-in's sync hangs on a slow portal while the other two are asked for.
    s.portal.faults.configure({ timeoutRate: 1, timeoutMs: 2500 });
    try {
      const optIn = setOptIn(s.ops, [c.number], { optedIn: true, by: 'ana' });
      const h = s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, c.number));
      await eventually(async () => ((await h.describe()).raw.pendingActivities?.length ?? 0) > 0, 10000, 'the opt-in sync running');
      s.bc.admin.addCustomerAttachment(c.number, { fileName: 'w9.pdf', content: '%PDF w9' });
      const again = [syncCustomers(s.ops, [c.number], 'ben'), syncCustomers(s.ops, [c.number], 'cy')];
      await sleep(700);
      s.portal.faults.configure({ timeoutRate: 0 });
      const [opted, ...synced] = await Promise.all([optIn, ...again]);
      expect(opted[0].lastSync?.status).toBe('ready');
      expect(synced.map((r) => ('status' in r[0] ? r[0].status : null))).toEqual(['ready', 'ready']);
    } finally {
      s.portal.faults.configure({ timeoutRate: 0 });
    }
    const tasks = await syncsByTask(c.number);
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks).size).toBe(3);
    expect(await portalDocuments(c.number)).toEqual(['terms.pdf', 'w9.pdf']);
  }, 60000);
});

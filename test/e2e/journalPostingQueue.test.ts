import { parseDecimal } from '../../src/domain/money';
import { createLogger } from '../../src/observability/logger';
import { setOptIn } from '../../src/operations/customers';
import { createArsyncWorker, type ArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import type { ActivityDeps } from '../../activities';
import type { JournalPostRequest } from '../../activities/journalTypes';
import { customerWorkflowId, journalPosterWorkflowId, postingTaskQueue } from '../../workflows/ids';
import { JOURNAL_POSTER_REVISION, enqueuePosting, journalPoster } from '../../workflows/journalPoster';
import { eventually, startStack, type TestStack } from '../support/stack';
import { startHoldingProxy, type HoldingProxy } from '../support/workerProcess';

// The journal poster and its commit run on a task queue of their own. Here every activity slot of the main queue is
// taken (one slot, held by a customer sync whose ERP read never comes back), and a posting enqueued meanwhile is still
// written and posted in the ERP: on the shared queue it would wait for the slot.

let s: TestStack;
let proxy: HoldingProxy;
let deps: ActivityDeps;
let worker: ArsyncWorker;
let running: Promise<void>;

beforeAll(async () => {
  s = await startStack({ worker: false });
  proxy = await startHoldingProxy(s.bc.url);
  deps = createActivityDeps({ ...s.config, env: { ...s.config.env, BC_BASE_URL: proxy.url } }, createLogger('test', 'warn'), s.t.client);
  worker = await createArsyncWorker({
    connection: s.t.connection,
    namespace: s.config.env.TEMPORAL_NAMESPACE,
    taskQueue: s.config.env.TEMPORAL_TASK_QUEUE,
    deps,
    bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
    maxConcurrentActivityTaskExecutions: 1,
  });
  running = worker.run();
}, 60000);

afterAll(async () => {
  await proxy?.close(); // the held read fails, so the activity holding the slot ends
  if (worker?.getState() === 'RUNNING') {
    worker.shutdown();
    await running;
  }
  deps?.email.close();
  await s?.close();
});

it('a posting goes through while every activity slot of the main task queue is taken', async () => {
  const inv = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Services', quantity: 1, unitPrice: '75.00', taxPercent: 0 }] });

  // The only main-queue slot: C20000's portal sync, stuck reading the customer from the ERP.
  proxy.holdGets = /\/customers\?.*C20000/;
  void setOptIn(s.ops, ['C20000'], { optedIn: true, by: 'test' }).catch(() => undefined);
  await eventually(() => proxy.held > 0, 20000, 'the customer read held');
  const customer = await s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, 'C20000')).describe();
  expect(customer.raw.pendingActivities?.map((a) => a.activityType?.name)).toEqual(['syncCustomerToPortal']);

  const request: JournalPostRequest = {
    externalDocumentNumber: `QUEUE-${Date.now()}`,
    postingDate: new Date().toISOString().slice(0, 10),
    lines: [{ kind: 'applied', customerNumber: 'C10000', amountMinor: 7500, currency: 'USD', invoiceNumber: inv.number, description: 'Card payment' }],
  };
  const batch = s.config.settings.payments.journalBatch;
  await s.t.client.workflow.signalWithStart(journalPoster, {
    // Where the payment workflows' enqueue activity starts it.
    taskQueue: postingTaskQueue(s.config.env.TEMPORAL_TASK_QUEUE),
    workflowId: journalPosterWorkflowId(s.ops.companyId, batch),
    args: [{ companyId: s.ops.companyId, batch, revision: JOURNAL_POSTER_REVISION }],
    signal: enqueuePosting,
    // Nobody waits for the answer: the poster's reply finds no workflow and is dropped.
    signalArgs: [{ requestId: request.externalDocumentNumber, replyTo: `nobody:${request.externalDocumentNumber}`, request }],
  });

  const entries = await eventually(() => {
    const e = s.bc.admin.listLedgerEntries().filter((x) => x.externalDocumentNumber === request.externalDocumentNumber);
    return e.length > 0 && e;
  }, 20000, 'the payment posted in the ERP');
  expect(entries).toHaveLength(1);
  expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-7500);
  expect(parseDecimal(s.bc.admin.getInvoice(inv.number).remaining, 'USD')).toBe(0);
  // And the slot was still taken all along.
  const still = await s.t.client.workflow.getHandle(customerWorkflowId(s.ops.companyId, 'C20000')).describe();
  expect(still.raw.pendingActivities?.map((a) => a.activityType?.name)).toEqual(['syncCustomerToPortal']);
}, 60000);

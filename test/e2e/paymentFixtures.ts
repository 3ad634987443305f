import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseDecimal } from '../../src/domain/money';
import { paymentState } from '../../src/operations/payments';
import type { PaymentStage } from '../../src/domain/stages';
import type { PaymentState } from '../../workflows/portalPayment';
import { journalPosterWorkflowId, paymentWorkflowId } from '../../workflows/ids';
import { journalQueueQuery } from '../../workflows/journalPoster';
import { payOnPortal } from '../support/portalPay';
import { eventually, type TestStack } from '../support/stack';
import { portalSide, postErpInvoice, startReadyStack, type BothSides, type ReadyStackOptions } from '../support/ready';
import { startHoldingProxy, startWorkerProcess, workerEnv, type HoldingProxy, type WorkerProcess } from '../support/workerProcess';

// Shared set-up for the portal payment end-to-end tests: a stack with the portal webhooks registered (unless the test
// wants the poll-only path), the portal poller and BC subscription running and the demo customers opted in; invoices
// posted in the sandbox ERP and waited for in the portal; and readers of what the sandbox ERP really holds.

export type PaymentStackOptions = ReadyStackOptions;
export const startPaymentStack = startReadyStack;
export { postErpInvoice, portalSide, type BothSides };

/** Waits for a payment workflow to reach a stage; returns its state. */
export async function paymentAt(s: TestStack, paymentId: string, stage: PaymentStage | PaymentStage[], timeoutMs = 15000): Promise<PaymentState> {
  const wanted = Array.isArray(stage) ? stage : [stage];
  return eventually(async () => {
    const p = await paymentState(s.ops, 'default', paymentId);
    return wanted.includes(p.stage) && p;
  }, timeoutMs, `payment ${paymentId} at ${wanted.join('/')}`);
}

/** Customer ledger entries in the sandbox ERP carrying this external document number. */
export function ledger(s: TestStack, externalDocumentNumber: string) {
  return s.bc.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === externalDocumentNumber);
}

/** Sum of the customer ledger entries of an external document number, minor units (payments are negative). */
export function ledgerSum(s: TestStack, externalDocumentNumber: string): number {
  return ledger(s, externalDocumentNumber).reduce((sum, e) => sum + parseDecimal(e.amount, e.currencyCode || 'USD'), 0);
}

/** The ERP invoice's remaining amount, minor units. */
export function remaining(s: TestStack, invoiceNumber: string): number {
  return parseDecimal(s.bc.admin.getInvoice(invoiceNumber).remaining, 'USD');
}

/** Lines waiting unposted in the ARSYNC cash receipt batch (through the BC API, as the service sees them). */
export async function unpostedLines(s: TestStack) {
  const batch = await s.deps.bc.findJournalBatch(s.config.settings.payments.journalBatch);
  return s.deps.bc.findCustomerPaymentLines(batch!.id);
}

export async function journalQueue(s: TestStack) {
  return s.t.client.workflow.getHandle(journalPosterWorkflowId(s.ops.companyId, s.config.settings.payments.journalBatch)).query(journalQueueQuery);
}

/** The portal payment as the Invoice Ninja API prints it (the body of its payment webhooks). */
export async function portalPaymentBody(s: TestStack, paymentId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${s.portal.url}/api/v1/payments/${paymentId}?include=invoices,client`, {
    headers: { 'X-API-TOKEN': 'arsync-demo-token', 'X-Requested-With': 'XMLHttpRequest' },
  });
  if (!res.ok) throw new Error(`portal answered ${res.status} for payment ${paymentId}`);
  return ((await res.json()) as { data: Record<string, unknown> }).data;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The runs of a payment's workflow on this stack's task queue (ids repeat across sandboxes, task queues do not). */
export async function paymentRuns(s: TestStack, paymentId: string) {
  const runs = [];
  const query = `WorkflowId = '${paymentWorkflowId('default', paymentId)}' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'`;
  for await (const wf of s.t.client.workflow.list({ query })) runs.push(wf);
  return runs;
}

/** How many times, over all its runs, the payment's workflow handed a posting to the journal poster. */
export async function submissions(s: TestStack, paymentId: string): Promise<number> {
  let n = 0;
  for (const run of await paymentRuns(s, paymentId)) {
    const history = await s.t.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    // A request goes to the journal poster by signal (counted when delivered), or by the activity that starts the
    // poster when none runs.
    const events = history.events ?? [];
    const enqueueSignals = new Set(
      events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'enqueuePosting').map((e) => Number(e.eventId)),
    );
    n += events.filter(
      (e) =>
        e.activityTaskScheduledEventAttributes?.activityType?.name === 'enqueueJournalPosting' ||
        enqueueSignals.has(Number(e.externalWorkflowExecutionSignaledEventAttributes?.initiatedEventId ?? -1)),
    ).length;
  }
  return n;
}

export interface KillableStack {
  s: TestStack;
  /** The sandbox ERP as the worker process reaches it. */
  proxy: HoldingProxy;
  worker(): WorkerProcess;
  /** SIGKILL the worker process and start a new one. */
  killAndRestart(between?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** A payment stack whose worker is a separate process reaching the ERP through a holding proxy. */
export async function startKillableStack(opts: PaymentStackOptions = {}): Promise<KillableStack> {
  let proxy!: HoldingProxy;
  let worker: WorkerProcess | undefined;
  let stack!: TestStack;
  const start = async () => {
    worker = await startWorkerProcess(workerEnv(stack, { BC_BASE_URL: proxy.url }));
  };
  const s = await startPaymentStack({
    ...opts,
    worker: false,
    beforeSetup: async (st) => {
      stack = st;
      proxy = await startHoldingProxy(st.bc.url);
      await start();
    },
  });
  return {
    s,
    proxy,
    worker: () => worker!,
    async killAndRestart(between) {
      await worker!.kill();
      between?.();
      await start();
    },
    async close() {
      await s.close();
      await worker?.stop();
      await proxy.close();
    },
  };
}

/** Attempt numbers of the journal poster's posting activities (an attempt above 1 was retried). */
export async function postingAttempts(s: TestStack): Promise<number[]> {
  const history = await s.t.client.workflow.getHandle(journalPosterWorkflowId(s.ops.companyId, s.config.settings.payments.journalBatch)).fetchHistory();
  const events = history.events ?? [];
  const names = new Map<string, string>();
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) names.set(String(e.eventId), a.activityType?.name ?? '');
  }
  return events
    .filter((e) => e.activityTaskStartedEventAttributes && names.get(String(e.activityTaskStartedEventAttributes.scheduledEventId)) === 'postJournalBatch')
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
}

/** How the journal poster scheduled its posting activities: the distinct task queues and retry caps (seconds). */
export async function postingSchedules(s: TestStack): Promise<{ queues: string[]; maxRetryIntervalsSec: number[] }> {
  const history = await s.t.client.workflow.getHandle(journalPosterWorkflowId(s.ops.companyId, s.config.settings.payments.journalBatch)).fetchHistory();
  const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a?.activityType?.name === 'postJournalBatch');
  return {
    queues: [...new Set(scheduled.map((a) => a!.taskQueue?.name ?? ''))],
    maxRetryIntervalsSec: [...new Set(scheduled.map((a) => Number(a!.retryPolicy?.maximumInterval?.seconds ?? 0)))],
  };
}

/** Pays each invoice in full by card on the pay page, one after the other. */
export async function payInFull(s: TestStack, invoices: BothSides[]): Promise<Array<{ paymentId: string; feeMinor: number; inv: BothSides }>> {
  const paid = [];
  for (const inv of invoices) {
    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: (inv.totalMinor / 100).toFixed(2) }]);
    paid.push({ paymentId, feeMinor, inv });
  }
  return paid;
}

let references = 0;
/** Records a payment through the portal's API (as staff or an integration would), positive or negative. */
export async function apiPayment(s: TestStack, clientId: string, amountMinor: number, invoices: Array<{ invoiceId: string; amountMinor: number }> = []) {
  const ref = `test-${process.pid}-${Date.now()}-${++references}`;
  return s.deps.portals.client('default').createPayment({
    clientId,
    amountMinor,
    currency: 'USD',
    invoices,
    idempotencyKey: ref,
    transactionReference: ref,
    date: new Date().toISOString().slice(0, 10),
  });
}

/** Runs the `arsync` CLI as its own process with the stack's environment; resolves with its exit code and output. */
export function runCli(s: TestStack, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: path.resolve(__dirname, '../..'), env: workerEnv(s, { LOG_LEVEL: 'warn' }) }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A portal-only invoice (no ERP invoice has its number) for a customer's portal client; returns it with its pay-page key. */
export async function portalOnlyInvoice(s: TestStack, clientId: string, number: string, amountMinor: number): Promise<BothSides> {
  const portal = s.deps.portals.client('default');
  const inv = await portal.createInvoice({ clientId, currency: 'USD', number, lines: [{ notes: 'Portal-only charge', quantity: 1, unitPriceMinor: amountMinor }] }, { markSent: true, sendEmail: false });
  return { number, portalClientId: clientId, totalMinor: inv.amount.minor, portalInvoiceId: inv.id, invitationKey: inv.invitations[0]!.key };
}

import { defaultPayloadConverter } from '@temporalio/common';
import { actionsSince, addCounts, emptyCount, markWorkflow, runEvents, runsOf, totalActions, workflowActions, type ActionCount, type Mark } from '../lib/actions';
import { DEFAULT_CONNECTION, invoiceWorkflowId, paymentWorkflowId } from '../../workflows/ids';
import { pay, portalInvoice, postInvoices, view } from '../lib/scenario';
import type { BenchStack } from '../lib/stack';
import { waitFor } from '../lib/stats';

export interface CostResult {
  invoices: number;
  /** Per invoice, by kind of action, and the history events behind them. */
  perInvoice: ActionCount & { actions: number };
  /** The same, split by the workflow type that took the action. */
  byWorkflowType: Record<string, ActionCount & { actions: number }>;
  /** Per payment: what started each of its runs (the observation that came with the signal-with-start). */
  paymentRuns: Array<{ workflowId: string; startedBy: string[] }>;
}

const stageQuery = (number: string, stage: string) => `WorkflowType = 'invoiceLifecycle' AND InvoiceNumber = '${number}' AND Stage = '${stage}'`;

/**
 * The happy path, counted from real histories: invoices posted in the ERP → synced → link sent → opened by the customer
 * → paid in full by card → posted in the ERP. The invoice and payment workflows are counted whole; the long-lived
 * workflows they share (customer, journal poster) only from a mark set before the scenario, after one invoice has
 * taken the same path uncounted: a deployment starts those once, not per invoice. Nothing queries the workflows
 * meanwhile (queries are actions too), progress is read from visibility.
 */
export async function cost(stack: BenchStack, customer: string, k: number): Promise<CostResult> {
  const { client } = stack;
  const happyPath = async (number: string) => {
    await waitFor(async () => (await client.workflow.count(stageQuery(number, 'link_sent'))).count > 0, 60_000, `${number} at link_sent`, 200);
    const inv = await portalInvoice(stack, number);
    await view(inv);
    await waitFor(async () => (await client.workflow.count(stageQuery(number, 'viewed'))).count > 0, 60_000, `${number} viewed`, 200);
    const { paymentId } = await pay(stack, inv);
    const state = (await client.workflow.getHandle(invoiceWorkflowId(stack.ops.companyId, number)).result()) as { stage: string };
    if (state.stage !== 'posted') throw new Error(`invoice ${number} ended at ${state.stage}, not posted`);
    await client.workflow.getHandle(paymentWorkflowId(DEFAULT_CONNECTION, paymentId)).result();
  };
  for (const number of await postInvoices(stack, 1, [customer])) await happyPath(number);

  const shared: Mark[] = [];
  const sharedTypes = new Map<string, string>();
  for await (const wf of client.workflow.list({ query: `(WorkflowType = 'customer' OR WorkflowType = 'journalPoster') AND ExecutionStatus = 'Running'` })) {
    shared.push(await markWorkflow(client, wf.workflowId, wf.runId));
    sharedTypes.set(wf.workflowId, wf.type);
  }
  const since = new Date();
  const numbers = await postInvoices(stack, k, [customer]);
  await Promise.all(numbers.map(happyPath));

  const byType: Record<string, ActionCount> = {};
  const paymentRuns: CostResult['paymentRuns'] = [];
  const add = (type: string, c: ActionCount) => (byType[type] = addCounts(byType[type] ?? emptyCount(), c));
  for (const number of numbers) {
    add('invoiceLifecycle', await workflowActions(client, invoiceWorkflowId(stack.ops.companyId, number)));
    // Visibility lists every run; each payment workflow is counted once, all its runs together.
    const payments = new Set<string>();
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'portalPayment' AND InvoiceNumber = '${number}'` })) payments.add(wf.workflowId);
    for (const workflowId of payments) {
      const wf = { workflowId };
      add('portalPayment', await workflowActions(client, wf.workflowId));
      const startedBy: string[] = [];
      for (const run of await runsOf(client, wf.workflowId)) {
        const first = (await runEvents(client, wf.workflowId, run.runId)).find((e) => e.workflowExecutionSignaledEventAttributes);
        const payload = first?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
        startedBy.push(payload ? String((defaultPayloadConverter.fromPayload(payload) as { source?: string }).source) : 'unknown');
      }
      paymentRuns.push({ workflowId: wf.workflowId, startedBy });
    }
  }
  for (const mark of shared) add(sharedTypes.get(mark.workflowId) ?? mark.workflowId, await actionsSince(client, mark, since));
  // Shared workflows first started during the scenario (a customer's first journal posting, say).
  for await (const wf of client.workflow.list({ query: `(WorkflowType = 'customer' OR WorkflowType = 'journalPoster') AND StartTime >= '${since.toISOString()}'` })) {
    if (shared.some((m) => m.workflowId === wf.workflowId)) continue;
    add(wf.type, await workflowActions(client, wf.workflowId));
  }

  let total = emptyCount();
  for (const c of Object.values(byType)) total = addCounts(total, c);
  return {
    invoices: k,
    perInvoice: perInvoice(total, k),
    paymentRuns,
    byWorkflowType: Object.fromEntries(Object.entries(byType).map(([t, c]) => [t, perInvoice(c, k)])),
  };
}

function perInvoice(c: ActionCount, k: number): ActionCount & { actions: number } {
  const per = emptyCount();
  for (const key of Object.keys(per) as Array<keyof ActionCount>) per[key] = c[key] / k;
  return { ...per, actions: totalActions(c) / k };
}

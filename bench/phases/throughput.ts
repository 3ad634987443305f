import { isLocalActivityMarker, runEvents } from '../lib/actions';
import { activityTimings, eventMs, summarise, type ActivityTiming } from '../lib/timings';
import { invoiceWorkflowId } from '../../workflows/ids';
import { bulkStart, countWorkflows, pauseBcNotifications, portalInvoiceCount, postInvoices, resumeBcNotifications } from '../lib/scenario';
import { cpuMark, cpuSince } from '../lib/cpu';
import type { BenchStack } from '../lib/stack';
import type { SyncShape } from './ceiling';
import { waitFor } from '../lib/stats';

export interface ThroughputResult {
  invoices: string[];
  /** ERP posting of the first invoice → the last one in the portal. */
  seconds: number;
  perSecond: number;
  /** ERP posting → every one of them at link_sent. */
  linkSentSeconds: number | null;
  /** Activities, regular and local, each invoice workflow ran up to link_sent (from histories). */
  shape: SyncShape;
  bcRequestsPerInvoice: number;
  portalRequestsPerInvoice: number;
  /** ERP posting → invoice workflow started (the webhook path), mean and max over the batch. */
  startDelayMs: { mean: number; max: number };
  /** Per activity type: mean wait for a worker slot and mean run time. */
  activities: Record<string, { count: number; waitMs: number; runMs: number }>;
  /** CPU seconds per process while the batch ran, and the wall time. */
  cpu: ReturnType<typeof cpuSince>;
}

/**
 * How the invoices reach arsync: `webhook` is the Business Central notification (one per chunk of postings), `api` is
 * the operator's bulk start (`POST /api/v1/invoices`, 500 numbers a call) with the BC subscription removed meanwhile.
 */
export type Trigger = 'webhook' | 'api';

/** N invoices posted in the ERP at once (one notification per chunk) → all in the portal, timed. */
export async function throughput(stack: BenchStack, customers: string[], n: number, trigger: Trigger, pids: Record<string, number>): Promise<ThroughputResult> {
  const before = portalInvoiceCount(stack);
  const linkQuery = `WorkflowType = 'invoiceLifecycle' AND Stage = 'link_sent'`;
  const linkedBefore = await countWorkflows(stack.client, linkQuery);
  if (trigger === 'api') await pauseBcNotifications(stack);
  const req0 = { ...stack.requests };
  const cpu0 = cpuMark(pids);
  const t0 = Date.now();
  const invoices = await postInvoices(stack, n, customers, { chunk: 250 });
  if (trigger === 'api') await bulkStart(stack, invoices);
  const timeoutMs = Math.max(120_000, n * 500);
  await waitFor(async () => portalInvoiceCount(stack) >= before + n, timeoutMs, `${n} invoices in the portal`, 50);
  const seconds = (Date.now() - t0) / 1000;
  let linkSentSeconds: number | null = null;
  try {
    await waitFor(async () => (await countWorkflows(stack.client, linkQuery)) >= linkedBefore + n, 60_000, `${n} invoices at link_sent`, 200);
    linkSentSeconds = (Date.now() - t0) / 1000;
  } catch {
    // Reported as not measured; the portal figure stands.
  }
  const cpu = cpuSince(cpu0, pids);
  const bcRequests = stack.requests.bc - req0.bc;
  const portalRequests = stack.requests.portal - req0.portal;

  if (trigger === 'api') await resumeBcNotifications(stack);

  // Where the time went, from every invoice's history.
  const timings: ActivityTiming[] = [];
  const startDelays: number[] = [];
  let activities = 0;
  let localActivities = 0;
  for (const number of invoices) {
    const id = invoiceWorkflowId(stack.ops.companyId, number);
    const { runId } = await stack.client.workflow.getHandle(id).describe();
    const events = await runEvents(stack.client, id, runId);
    activities += events.filter((e) => e.activityTaskScheduledEventAttributes).length;
    localActivities += events.filter(isLocalActivityMarker).length;
    timings.push(...activityTimings(events));
    startDelays.push(eventMs(events[0]) - t0);
  }
  return {
    invoices,
    seconds,
    perSecond: n / seconds,
    linkSentSeconds,
    shape: { activities: Math.round(activities / invoices.length), localActivities: Math.round(localActivities / invoices.length) },
    startDelayMs: { mean: Math.round(startDelays.reduce((a, b) => a + b, 0) / startDelays.length), max: Math.max(...startDelays) },
    activities: summarise(timings),
    cpu,
    bcRequestsPerInvoice: bcRequests / n,
    portalRequestsPerInvoice: portalRequests / n,
  };
}


import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { invoiceWorkflowId } from '../../workflows/ids';
import {
  cancelInvoiceUpdate,
  copyLinkUpdate,
  invoiceStateQuery,
  invoiceTimelineQuery,
  previewLinkQuery,
  resetSyncUpdate,
  sendLinkUpdate,
} from '../../workflows/invoiceMessages';
import type { InvoiceState, TimelineEvent } from '../../workflows/invoiceTypes';
import type { InvoiceStage } from '../domain/stages';
import { AmountDue, InvoiceNumber } from '../temporal/searchAttributes';
import { startInvoice, type StartOutcome } from '../temporal/starters';
import { bounded, executeUpdateOnce, mapLimit, notFoundOrEnded, OperationError, type OpsContext } from './context';
import { listCurrentRuns, literal, stageClauses, stagedRow } from './visibility';

/** Starts go to the Temporal frontend a few at a time, so a 500-invoice bulk start neither crawls nor floods it. */
const START_CONCURRENCY = 8;

export async function startInvoices(ctx: OpsContext, numbers: string[]): Promise<Array<{ invoiceNumber: string; outcome: StartOutcome; workflowId: string }>> {
  return mapLimit(numbers, START_CONCURRENCY, async (n) => ({
    invoiceNumber: n,
    outcome: await bounded(ctx, `starting invoice ${n}`, () => startInvoice(ctx, ctx.companyId, n)),
    workflowId: invoiceWorkflowId(ctx.companyId, n),
  }));
}

const handle = (ctx: OpsContext, number: string) => ctx.client.workflow.getHandle(invoiceWorkflowId(ctx.companyId, number));

/** Runs a query or update and turns "no such workflow", a rejected update and a missed deadline into caller errors. */
async function call<T>(ctx: OpsContext, number: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await bounded(ctx, `invoice ${number}`, fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw await notFoundOrEnded(ctx, invoiceWorkflowId(ctx.companyId, number), `invoice ${number}`, `invoice ${number} is not known to arsync`);
    }
    if (err instanceof WorkflowUpdateFailedError) throw new OperationError(String(err.cause?.message ?? err.message), 409);
    throw err;
  }
}

export const invoiceState = (ctx: OpsContext, number: string): Promise<InvoiceState> =>
  call(ctx, number, () => handle(ctx, number).query(invoiceStateQuery));
/**
 * The timeline in the order things happened: entries are recorded as they are learned, and a view the portal watcher
 * reads a while later carries the portal's earlier viewed time.
 */
export const invoiceTimeline = async (ctx: OpsContext, number: string): Promise<TimelineEvent[]> =>
  byTime(await call(ctx, number, () => handle(ctx, number).query(invoiceTimelineQuery)));

export function byTime(events: TimelineEvent[]): TimelineEvent[] {
  return events
    .map((e, i) => ({ e, i, t: Date.parse(e.at) }))
    .sort((a, b) => (Number.isNaN(a.t) || Number.isNaN(b.t) || a.t === b.t ? a.i - b.i : a.t - b.t))
    .map((x) => x.e);
}
export const previewLink = async (ctx: OpsContext, number: string): Promise<string> => {
  const link = await call(ctx, number, () => handle(ctx, number).query(previewLinkQuery));
  if (!link) throw new OperationError(`invoice ${number} is not in the portal yet`, 409);
  return link;
};
export const sendLink = (ctx: OpsContext, number: string, by: string, channels?: Array<'email' | 'sms'>) =>
  call(ctx, number, () => executeUpdateOnce((updateId) => handle(ctx, number).executeUpdate(sendLinkUpdate, { args: [{ channels, by }], updateId })));
export const copyLink = (ctx: OpsContext, number: string, by: string) =>
  call(ctx, number, () => executeUpdateOnce((updateId) => handle(ctx, number).executeUpdate(copyLinkUpdate, { args: [{ by }], updateId })));
export const cancelInvoice = (ctx: OpsContext, number: string, by: string, why: string) =>
  call(ctx, number, () => executeUpdateOnce((updateId) => handle(ctx, number).executeUpdate(cancelInvoiceUpdate, { args: [{ by, why }], updateId })));

/**
 * "Modify Sync Status": forget the portal link. A run that ended some other way than cancelled or posted (terminated,
 * failed) is started again carrying its state (timeline, link sends), and the new run records the reset.
 */
export async function resetInvoice(ctx: OpsContext, number: string, by: string, why: string): Promise<{ restarted: boolean }> {
  const h = handle(ctx, number);
  const described = await call(ctx, number, () => h.describe());
  if (described.status.name === 'RUNNING') {
    await call(ctx, number, () => executeUpdateOnce((updateId) => h.executeUpdate(resetSyncUpdate, { args: [{ by, why }], updateId })));
    return { restarted: false };
  }
  // Its last state: a completed run's result, or what a closed run answers to a query (a worker replays it). A run
  // whose history no longer replays (often why it was terminated) cannot say: it starts afresh, with the reset recorded.
  // The run described, by its id: a run started meanwhile (the ERP reopened it) is not waited on.
  const run = ctx.client.workflow.getHandle(h.workflowId, described.runId);
  const ended =
    described.status.name === 'COMPLETED'
      ? await call(ctx, number, () => run.result() as Promise<InvoiceState>)
      : await call(ctx, number, () => run.query(invoiceStateQuery)).catch((err: unknown) => {
          if (err instanceof OperationError) throw err;
          return null;
        });
  if (ended) refuseResetOfSettled(number, ended);
  const reset = { by, why };
  await call(ctx, number, () => startInvoice(ctx, ctx.companyId, number, { again: true, carry: ended ? { state: ended, reset } : { reset } }));
  return { restarted: true };
}

/**
 * A cancelled invoice synced again would take over its cancelled portal invoice and send the customer its link again;
 * a posted one would tell the customer 0.00 is due. Neither has anything left to sync.
 */
function refuseResetOfSettled(number: string, ended: InvoiceState): void {
  if (ended.cancelled || ended.stage === 'cancelled') {
    const by = [...ended.timeline].reverse().find((e) => e.kind === 'cancelled')?.by;
    throw new OperationError(
      `invoice ${number} was cancelled${by ? ` (by ${by})` : ''}: a reset would sync a cancelled invoice again; post a new invoice in the ERP instead`,
      409,
    );
  }
  if (ended.stage === 'posted') {
    throw new OperationError(`invoice ${number} is posted (paid in full and settled in the ERP): there is nothing left to sync`, 409);
  }
}

export interface InvoiceRow {
  workflowId: string;
  runId: string;
  status: string;
  invoiceNumber: string | null;
  customerNumber: string | null;
  stage: string | null;
  attentionReason: string | null;
  amountDueMinor: number | null;
  startTime: string;
}

export interface InvoiceFilter {
  stage?: InvoiceStage;
  customerNumber?: string;
  /** Only running invoices waiting in needs_attention. */
  attention?: boolean;
  limit?: number;
}

/** The visibility clauses of an invoice list. */
export function invoiceClauses(ctx: OpsContext, filter: InvoiceFilter): string[] {
  return [`WorkflowType = 'invoiceLifecycle'`, `WorkflowId STARTS_WITH ${literal(invoiceWorkflowId(ctx.companyId, ''))}`, ...stageClauses(filter)];
}

/** The invoices of this ERP company by search attributes (the current run of each), newest first. */
export async function listInvoices(ctx: OpsContext, filter: InvoiceFilter = {}): Promise<InvoiceRow[]> {
  const rows = await listCurrentRuns(ctx, invoiceClauses(ctx, filter), filter.limit);
  return rows.map((wf) => ({
    ...stagedRow(wf),
    invoiceNumber: wf.typedSearchAttributes.get(InvoiceNumber) ?? null,
    amountDueMinor: wf.typedSearchAttributes.get(AmountDue) ?? null,
  }));
}

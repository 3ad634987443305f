import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { durationMs } from '../config/duration';
import { windowChoiceProblem, type WindowChoice } from '../domain/windowChoice';
import { driftSweep, driftSweepReportQuery, type DriftSweepReport } from '../../workflows/driftSweep';
import { erpPollNowSignal, erpWatcher, erpWatcherStateQuery, type ErpWatcherState } from '../../workflows/erpWatcher';
import { driftSweepWorkflowId, erpWatcherWorkflowId, windowSyncWorkflowId } from '../../workflows/ids';
import { windowSync, windowSyncReportQuery, type WindowSyncReport } from '../../workflows/windowSync';
import type { Target } from '../temporal/starters';
import { bounded, OperationError, type OpsContext } from './context';
import { startOnce, type ServiceWorkflow } from './startOnce';

// Payments made in the ERP, for operators: the ERP watcher, window syncs and drift sweeps. Shared by the API and the CLI;
// every run is a workflow, so it is visible (and its report queryable) in the Temporal UI.

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/** The window of a window sync, as the API and the CLI accept it. */
export const windowChoice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('last_successful_run') }).strict(),
  z.object({ kind: z.literal('past_week') }).strict(),
  z.object({ kind: z.literal('past_two_weeks') }).strict(),
  z.object({ kind: z.literal('past_month') }).strict(),
  z.object({ kind: z.literal('custom'), date: isoDay }).strict(),
]);

/** Starts the company's ERP watcher unless it runs already. */
export function startErpWatcher(ctx: OpsContext): Promise<ServiceWorkflow> {
  return startOnce(ctx, erpWatcher, {
    taskQueue: ctx.taskQueue,
    workflowId: erpWatcherWorkflowId(ctx.companyId),
    args: [{ companyId: ctx.companyId, intervalMs: durationMs(ctx.config.settings.polling.erpLedgerInterval) }],
  });
}

const watcher = (ctx: OpsContext) => ctx.client.workflow.getHandle(erpWatcherWorkflowId(ctx.companyId));

async function onWatcher<T>(ctx: OpsContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await bounded(ctx, 'the ERP watcher', fn);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new OperationError(`the ERP watcher of company ${ctx.companyId} is not running`, 404);
    throw err;
  }
}

/**
 * The fast path for payments in full and their unapplication: Business Central notifies salesInvoices only when the status
 * changes (Open <-> Paid), and the ERP watcher then reads the ledger at once instead of at its next poll. Never fails the
 * caller: without a running watcher the notification still counts.
 */
export async function pokeErpWatcher(t: Target, companyId: string): Promise<boolean> {
  try {
    await t.client.workflow.getHandle(erpWatcherWorkflowId(companyId)).signal(erpPollNowSignal);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export const erpWatcherState = (ctx: OpsContext): Promise<ErpWatcherState> => onWatcher(ctx, () => watcher(ctx).query(erpWatcherStateQuery));
export const pollErpNow = async (ctx: OpsContext): Promise<{ workflowId: string }> => {
  await onWatcher(ctx, () => watcher(ctx).signal(erpPollNowSignal));
  return { workflowId: erpWatcherWorkflowId(ctx.companyId) };
};

export interface RunOptions {
  /** Wait for the report this long (default: the call timeout, else 60 s); a longer run answers with its progress. */
  waitMs?: number;
}

export interface RunAnswer<R> {
  workflowId: string;
  done: boolean;
  report: R;
}

/** Waits up to waitMs for the run's result; otherwise answers with its report so far (the run goes on). */
async function answer<R>(ctx: OpsContext, handle: WorkflowHandle, progress: () => Promise<R>, opts: RunOptions): Promise<RunAnswer<R>> {
  const waitMs = opts.waitMs ?? ctx.callTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), waitMs);
  });
  try {
    const first = await Promise.race([handle.result() as Promise<R>, late]);
    if (first !== 'late') return { workflowId: handle.workflowId, done: true, report: first };
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new OperationError(`${handle.workflowId} failed: ${err.cause?.message ?? err.message}`, 409);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { workflowId: handle.workflowId, done: false, report: await bounded(ctx, handle.workflowId, progress) };
}

const stamp = () => `${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;

/** "Update Invoice Payments" (seed 001) over a window, as a workflow. */
export async function startWindowSync(ctx: OpsContext, input: { window: WindowChoice; by: string }, opts: RunOptions = {}): Promise<RunAnswer<WindowSyncReport>> {
  const problem = windowChoiceProblem(input.window, Date.now());
  if (problem) throw new OperationError(problem, 400);
  const handle = await bounded(ctx, 'starting a window sync', () =>
    ctx.client.workflow.start(windowSync, {
      taskQueue: ctx.taskQueue,
      workflowId: windowSyncWorkflowId(ctx.companyId, stamp()),
      args: [{ companyId: ctx.companyId, window: input.window, by: input.by }],
    }),
  );
  return answer(ctx, handle, () => handle.query(windowSyncReportQuery), opts);
}

/** A drift sweep, as a workflow. */
export async function startDriftSweep(ctx: OpsContext, input: { by: string }, opts: RunOptions = {}): Promise<RunAnswer<DriftSweepReport>> {
  const handle = await bounded(ctx, 'starting a drift sweep', () =>
    ctx.client.workflow.start(driftSweep, {
      taskQueue: ctx.taskQueue,
      workflowId: driftSweepWorkflowId(ctx.companyId, stamp()),
      args: [{ companyId: ctx.companyId, by: input.by }],
    }),
  );
  return answer(ctx, handle, () => handle.query(driftSweepReportQuery), opts);
}

/** The report of a window sync or drift sweep run, finished or not. */
export async function runReport(ctx: OpsContext, kind: 'window-sync' | 'drift-sweep', workflowId: string): Promise<WindowSyncReport | DriftSweepReport> {
  if (!workflowId.startsWith(`${kind}:${ctx.companyId}:`)) throw new OperationError(`${workflowId} is not a ${kind} run of company ${ctx.companyId}`, 404);
  const handle = ctx.client.workflow.getHandle(workflowId);
  try {
    return await bounded<WindowSyncReport | DriftSweepReport>(ctx, workflowId, () =>
      kind === 'window-sync' ? handle.query(windowSyncReportQuery) : handle.query(driftSweepReportQuery),
    );
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new OperationError(`no ${kind} run ${workflowId}`, 404);
    throw err;
  }
}

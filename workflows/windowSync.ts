import { ActivityFailure, ApplicationFailure, defineQuery, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MirrorRow } from '../activities/erpMirrorTypes';
import { SyncWindowError } from '../src/domain/syncWindow';
import { resolveWindow, type FixedWindowChoice, type WindowChoice } from '../src/domain/windowChoice';
import { windowSyncCompletedSignal } from './erpMessages';
import { addCounts, batchesOf, summariseWindow, tellInvoices, type WindowSyncSummary } from './erpRuns';
import { erpWatcherWorkflowId } from './ids';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// "Update Invoice Payments" (seed 001): every invoice whose ledger entry changed since the start of the window gets its
// paid amount brought in line in the portal (and so its date paid, which only exists once it is paid in full). Invoices
// unknown to the portal are reported and the run carries on; rerunning any window changes nothing already right. One run
// per workflow (started by the CLI, the API or a Temporal Schedule), its report queryable while it runs and returned at the
// end. A successful run tells the ERP watcher, which keeps "last successful run" durably.

export interface WindowSyncInput {
  companyId: string;
  window: WindowChoice;
  /** Who asked (a person, or "schedule"). */
  by: string;
  /** For "last successful run" when there is none yet (scheduled runs): use this window instead of failing. */
  fallback?: FixedWindowChoice;
  /** Company time zone for "today" (minutes from UTC). */
  utcOffsetMinutes?: number;
  batchSize?: number;
}

export type { WindowSyncSummary } from './erpRuns';

export interface WindowSyncReport {
  workflowId: string;
  by: string;
  status: 'running' | 'completed';
  window: { kind: WindowChoice['kind']; requested: WindowChoice['kind']; startDate: string; startIso: string; endIso: string; fellBack: boolean } | null;
  /** Every invoice of the window that was changed or needs a look; those found in line are in `inSyncInvoices`. */
  rows: MirrorRow[];
  /** Invoices found in line, by number (no row each, so a long window's report stays under the 2 MB result limit). */
  inSyncInvoices: string[];
  summary: WindowSyncSummary;
  /** The run counted as successful and became the next "last successful run". */
  lastRunRecorded: boolean;
  startedAt: string;
  finishedAt: string | null;
}

export const windowSyncReportQuery = defineQuery<WindowSyncReport>('windowSyncReport');

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

export async function windowSync(input: WindowSyncInput): Promise<WindowSyncReport> {
  const startedMs = Date.now();
  const report: WindowSyncReport = {
    workflowId: workflowInfo().workflowId,
    by: input.by,
    status: 'running',
    window: null,
    rows: [],
    inSyncInvoices: [],
    summary: summariseWindow([]),
    lastRunRecorded: false,
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: null,
  };
  setHandler(windowSyncReportQuery, () => report);

  let lastRunMs: number | null = null;
  if (input.window.kind === 'last_successful_run') {
    try {
      lastRunMs = await acts.lastWindowSyncMs({ companyId: input.companyId });
    } catch (err) {
      // Without a watcher there is no known last run: a scheduled run falls back, a person is told.
      if (!(err instanceof ActivityFailure) || !input.fallback) throw err;
    }
  }
  let window;
  try {
    window = resolveWindow(input.window, startedMs, { lastRunMs, fallback: input.fallback, utcOffsetMinutes: input.utcOffsetMinutes });
  } catch (err) {
    if (err instanceof SyncWindowError) throw ApplicationFailure.nonRetryable(err.message, 'SyncWindowError');
    throw err;
  }
  const startIso = new Date(window.startMs).toISOString();
  report.window = { kind: window.kind, requested: input.window.kind, startDate: window.startDate, startIso, endIso: new Date(window.endMs).toISOString(), fellBack: window.fellBack };

  const touched = await acts.listTouchedInvoices({ sinceIso: startIso });
  for (const batch of batchesOf(touched, input.batchSize ?? 20)) {
    const res = await acts.mirrorInvoices({ companyId: input.companyId, invoiceNumbers: batch, mode: 'window', creditsSinceIso: startIso });
    for (const r of res.rows) {
      if (r.status === 'already_right') report.inSyncInvoices.push(r.invoiceNumber);
      else report.rows.push(r);
    }
    report.summary = addCounts(report.summary, summariseWindow(res.rows));
    await tellInvoices(input.companyId, res.notes);
  }

  // Successful: nothing failed for a reason of ours. Unknown invoices are expected (seed 001) and do not count.
  if (!report.rows.some((r) => r.status === 'failed')) {
    try {
      await getExternalWorkflowHandle(erpWatcherWorkflowId(input.companyId)).signal(windowSyncCompletedSignal, { atMs: startedMs, workflowId: report.workflowId });
      report.lastRunRecorded = true;
    } catch {
      // No ERP watcher running: the run still did its work; the next "last successful run" will not know about it.
    }
  }
  report.status = 'completed';
  report.finishedAt = new Date(Date.now()).toISOString();
  return report;
}

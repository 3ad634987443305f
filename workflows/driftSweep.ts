import { defineQuery, getExternalWorkflowHandle, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MirrorRow } from '../activities/erpMirrorTypes';
import { chunks } from '../src/adapters/chunks';
import { addCounts, batchesOf, tellInvoices } from './erpRuns';
import { invoiceWorkflowId } from './ids';
import { driftDetectedSignal, erpInvoiceChangedSignal } from './invoiceMessages';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// The drift sweep (on a schedule and on demand): every open synced invoice's balance compared in both systems
// (src/domain/drift.ts), with payments on their way and reversals accounted for. What the rules allow is healed: an ERP
// application missing in the portal is recorded there, one the ERP unapplied is reduced there, and a portal payment that
// has not reached the ERP has its payment workflow nudged to retry, and an invoice cancelled or credited in the ERP while
// its portal invoice is open has its invoice workflow woken (or started again when it had ended at posted) to cancel it
// there. The rest is reported on the invoice workflow (AttentionReason=drift), which is cleared again once a later sweep
// finds the balances back in line.

export interface DriftSweepInput {
  companyId: string;
  by: string;
  /** Also compare invoices changed in the ERP this far back (a payment in full closes them). Default 31 days. */
  lookbackDays?: number;
  /** Nudge a portal payment not posted in the ERP after this long. Default 10 minutes. */
  retryUnpostedAfterMs?: number;
  batchSize?: number;
}

export interface DriftSweepSummary {
  invoices: number;
  inSync: number;
  healed: number;
  reported: number;
  deferred: number;
  notInPortal: number;
  failed: number;
}

export interface DriftSweepReport {
  workflowId: string;
  by: string;
  status: 'running' | 'completed';
  /** Every invoice compared that needs a look or was changed; those found in line are in `inSyncInvoices`. */
  rows: MirrorRow[];
  /** Invoices found in line, by number (no row each, so the report stays small for thousands of invoices). */
  inSyncInvoices: string[];
  summary: DriftSweepSummary;
  /** Invoice workflows given AttentionReason=drift, and those cleared of it. */
  flagged: string[];
  cleared: string[];
  /**
   * Invoice workflows woken because their indexed amount due was not the ERP's (a missed notification), or because the
   * ERP cancelled or credited the invoice while its portal invoice is open; and those that had ended at posted, started
   * again because the ERP reopened (money due again), credited or cancelled the invoice.
   */
  woken: string[];
  startedAt: string;
  finishedAt: string | null;
}

export const driftSweepReportQuery = defineQuery<DriftSweepReport>('driftSweepReport');

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

function summariseDrift(rows: readonly MirrorRow[]): DriftSweepSummary {
  return {
    invoices: rows.length,
    inSync: rows.filter((r) => r.status === 'already_right').length,
    healed: rows.filter((r) => r.status === 'changed').length,
    reported: rows.filter((r) => r.status === 'drift').length,
    deferred: rows.filter((r) => r.status === 'deferred').length,
    notInPortal: rows.filter((r) => r.status === 'not_in_portal').length,
    failed: rows.filter((r) => r.status === 'failed').length,
  };
}

export async function driftSweep(input: DriftSweepInput): Promise<DriftSweepReport> {
  const startedMs = Date.now();
  const report: DriftSweepReport = {
    workflowId: workflowInfo().workflowId,
    by: input.by,
    status: 'running',
    rows: [],
    inSyncInvoices: [],
    summary: summariseDrift([]),
    flagged: [],
    cleared: [],
    woken: [],
    startedAt: new Date(startedMs).toISOString(),
    finishedAt: null,
  };
  setHandler(driftSweepReportQuery, () => report);

  const sinceIso = new Date(startedMs - (input.lookbackDays ?? 31) * 86_400_000).toISOString();
  const size = input.batchSize ?? 20;
  // A customer's invoices go in one batch: one ERP payment spread over several of them becomes one portal payment.
  const batches = patched('sweep-batches-by-customer')
    ? batchesOf(await acts.listSweepInvoiceCustomers({ companyId: input.companyId, modifiedSinceIso: sinceIso }), size)
    : chunks(await acts.listSweepInvoices({ companyId: input.companyId, modifiedSinceIso: sinceIso }), size);
  let summary = summariseDrift([]);
  /** Invoices whose balances agree (a drift flag on them is cleared). */
  const inLine = new Set<string>();
  /** Invoice number → ERP remaining amount (compact: the wake-up step's activity input). */
  const erpRemaining: Record<string, number> = {};
  for (const batch of batches) {
    const res = await acts.mirrorInvoices({
      companyId: input.companyId,
      invoiceNumbers: batch,
      mode: 'sweep',
      creditsSinceIso: sinceIso,
      retryUnpostedOlderThanMs: input.retryUnpostedAfterMs ?? 600_000,
    });
    // Invoices found in line are kept by number only: a row each would outgrow a workflow result (2 MB) at a few
    // thousand open invoices.
    for (const r of res.rows) {
      if (r.status === 'already_right') report.inSyncInvoices.push(r.invoiceNumber);
      else report.rows.push(r);
      if ((r.status === 'already_right' || r.status === 'changed') && r.unresolvedMinor === 0) inLine.add(r.invoiceNumber);
      if (r.erpRemainingMinor !== null) erpRemaining[r.invoiceNumber] = r.erpRemainingMinor;
      // Woken or started again by the mirror itself (cancelled in the ERP, open in the portal; reopened with money due).
      if (r.invoiceWorkflow && !report.woken.includes(r.invoiceNumber)) report.woken.push(r.invoiceNumber);
    }
    summary = addCounts(summary, summariseDrift(res.rows));
    report.summary = summary;
    await tellInvoices(input.companyId, res.notes);
  }

  const signal = async (invoiceNumber: string, drift: boolean, detail: string) => {
    try {
      await getExternalWorkflowHandle(invoiceWorkflowId(input.companyId, invoiceNumber)).signal(driftDetectedSignal, { drift, detail });
      return true;
    } catch {
      return false; // not running: nothing to flag
    }
  };
  for (const r of report.rows.filter((x) => x.status === 'drift')) {
    if (await signal(r.invoiceNumber, true, r.detail)) report.flagged.push(r.invoiceNumber);
  }
  for (const n of await acts.invoicesWithDriftAttention({ companyId: input.companyId })) {
    if (inLine.has(n) && (await signal(n, false, 'balances agree again'))) report.cleared.push(n);
  }
  // Invoice workflows that missed a notification (their indexed amount due is not the ERP's) are woken to read both
  // sides: the sweep is the invoices' periodic re-check, so an idle invoice keeps no timer of its own.
  if (patched('sweep-wakes-stale-invoices')) {
    for (const st of await acts.staleInvoices({ companyId: input.companyId, erpRemaining })) {
      try {
        await getExternalWorkflowHandle(invoiceWorkflowId(input.companyId, st.invoiceNumber)).signal(erpInvoiceChangedSignal, {
          reason: `drift sweep: the ERP has ${st.erpRemainingMinor} due, the invoice ${st.indexedMinor}`,
        });
        if (!report.woken.includes(st.invoiceNumber)) report.woken.push(st.invoiceNumber);
      } catch {
        // Ended meanwhile: nothing to wake.
      }
    }
  }
  report.status = 'completed';
  report.finishedAt = new Date(Date.now()).toISOString();
  return report;
}

import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ErpApplicationRow, MirrorRow } from '../activities/erpMirrorTypes';
import type { ErpResetRow } from '../activities/erpReset';
import { batchesOf, tellInvoices } from './erpRuns';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// "Filter Unsynced Applications" and syncing the selected ones: ERP applications (and unapplications) to synced invoices
// since a date that the portal does not show yet. Listing changes nothing; syncing records (or reduces) only the selected
// ledger entries, planned afresh from both systems, so a stale selection cannot double anything. Resetting ("Modify Sync
// Status" of an application) deletes what the portal shows of the selected entries, for a sync to record them afresh.

export interface ErpApplicationsInput {
  companyId: string;
  mode: 'list' | 'sync' | 'reset';
  /** Invoices whose ledger entry changed since then, and the ERP entries modified since then. */
  sinceIso: string;
  /** For sync: the ledger entry numbers to bring to the portal; for reset, those to take out of it. */
  entries?: number[];
  by: string;
  /** For reset: why (recorded in the result, which the workflow's history keeps). */
  why?: string;
}

export interface ErpApplicationsResult {
  mode: 'list' | 'sync' | 'reset';
  by: string;
  sinceIso: string;
  applications: ErpApplicationRow[];
  /** Invoices looked at, with their state (after the sync, for sync). */
  invoices: MirrorRow[];
  /** For reset: what was taken out of the portal, per entry, and why. */
  resets?: ErpResetRow[];
  why?: string;
}

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

export async function erpApplications(input: ErpApplicationsInput): Promise<ErpApplicationsResult> {
  const result: ErpApplicationsResult = { mode: input.mode, by: input.by, sinceIso: input.sinceIso, applications: [], invoices: [] };
  if (input.mode === 'reset') {
    result.why = input.why;
    result.resets = input.entries?.length ? await acts.resetErpApplications({ companyId: input.companyId, entries: input.entries }) : [];
    return result;
  }
  if (input.mode === 'sync' && !input.entries?.length) return result;
  const touched = await acts.listTouchedInvoices({ sinceIso: input.sinceIso });
  for (const batch of batchesOf(touched, 20)) {
    const res = await acts.mirrorInvoices({
      companyId: input.companyId,
      invoiceNumbers: batch,
      mode: input.mode,
      creditsSinceIso: input.sinceIso,
      onlyEntries: input.mode === 'sync' ? input.entries : undefined,
    });
    result.applications.push(...res.applications);
    result.invoices.push(...res.rows);
    await tellInvoices(input.companyId, res.notes);
  }
  return result;
}

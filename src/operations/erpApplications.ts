import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { ErpApplicationRow } from '../../activities/erpMirrorTypes';
import { sameDayLastMonth, parseDate, formatDate } from '../domain/syncWindow';
import { erpApplications, type ErpApplicationsResult } from '../../workflows/erpApplications';
import { erpApplicationsWorkflowId } from '../../workflows/ids';
import { bounded, OperationError, type OpsContext } from './context';

// "Filter Unsynced Applications" (seed 000's Business Central page, for payments made in the ERP) and syncing the selected
// ones. Both run as a short workflow on the worker, which holds the ERP and portal clients; the listing changes nothing.

/** The default start of the listing: the same day last month (UTC), like the window sync's "past month". */
export function defaultSince(nowMs: number): string {
  const today = parseDate(new Date(nowMs).toISOString().slice(0, 10));
  return `${formatDate(sameDayLastMonth(today))}T00:00:00.000Z`;
}

const DOING = { list: 'listing', sync: 'syncing', reset: 'resetting' } as const;

async function run(ctx: OpsContext, mode: 'list' | 'sync' | 'reset', input: { sinceIso: string; entries?: number[]; by: string; why?: string }): Promise<ErpApplicationsResult> {
  const workflowId = erpApplicationsWorkflowId(ctx.companyId, mode, `${new Date().toISOString()}-${randomUUID().slice(0, 8)}`);
  try {
    return await bounded(ctx, `${DOING[mode]} ERP applications`, () =>
      ctx.client.workflow.execute(erpApplications, {
        taskQueue: ctx.taskQueue,
        workflowId,
        args: [{ companyId: ctx.companyId, mode, sinceIso: input.sinceIso, entries: input.entries, by: input.by, ...(input.why ? { why: input.why } : {}) }],
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new OperationError(`${workflowId} failed: ${err.cause?.message ?? err.message}`, 409);
    throw err;
  }
}

/** ERP applications and unapplications to synced invoices since `sinceIso` that the portal does not show yet. */
export async function listUnsyncedApplications(ctx: OpsContext, input: { sinceIso?: string; by?: string } = {}): Promise<ErpApplicationRow[]> {
  const res = await run(ctx, 'list', { sinceIso: input.sinceIso ?? defaultSince(Date.now()), by: input.by ?? 'operator' });
  return res.applications;
}

/** Brings the selected ledger entries to the portal (planned afresh: what is already there is not recorded again). */
export async function syncApplications(ctx: OpsContext, input: { entries: number[]; sinceIso?: string; by: string }): Promise<ErpApplicationsResult> {
  if (input.entries.length === 0) throw new OperationError('select at least one ledger entry', 400);
  const res = await run(ctx, 'sync', { sinceIso: input.sinceIso ?? defaultSince(Date.now()), entries: input.entries, by: input.by });
  if (res.applications.length === 0) {
    const which = `ledger entr${input.entries.length > 1 ? 'ies' : 'y'} ${input.entries.join(', ')}`;
    throw new OperationError(`nothing to sync for ${which}: already in the portal, or not an ERP application to a synced invoice since ${input.sinceIso ?? 'last month'}`, 409);
  }
  return res;
}

/**
 * "Modify Sync Status" of applications: deletes the portal payments arsync recorded for these ledger entries, so the
 * portal no longer shows them and the next sync of the entries (`syncApplications`, the window sync, the drift sweep)
 * records them afresh. Nothing changes in the ERP.
 */
export async function resetApplications(ctx: OpsContext, input: { entries: number[]; by: string; why: string }): Promise<ErpApplicationsResult> {
  if (input.entries.length === 0) throw new OperationError('select at least one ledger entry', 400);
  return run(ctx, 'reset', { sinceIso: new Date().toISOString(), entries: input.entries, by: input.by, why: input.why });
}

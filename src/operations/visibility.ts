import type { WorkflowExecutionInfo } from '@temporalio/client';
import { AttentionReason, CustomerNumber, Stage } from '../temporal/searchAttributes';
import { chunks } from '../adapters/chunks';
import { bounded, type OpsContext } from './context';

// Visibility (list) queries over the workflows' search attributes: the same filters an operator types in the Temporal UI.

/** A string literal for a visibility query. Callers validate values first; this still keeps a quote from ending it. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export const DEFAULT_LIST_LIMIT = 200;
export const MAX_LIST_LIMIT = 1000;

/** Lists executions matching every clause, newest first, stopping at `limit`. */
export async function listExecutions(ctx: OpsContext, clauses: string[], limit = DEFAULT_LIST_LIMIT): Promise<WorkflowExecutionInfo[]> {
  const rows: WorkflowExecutionInfo[] = [];
  await bounded(ctx, 'listing workflows', async () => {
    for await (const wf of ctx.client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(limit, 100) })) {
      rows.push(wf);
      if (rows.length >= limit) break;
    }
  });
  return rows;
}

/** Workflow ids asked about in one `WorkflowId IN (…)` query. */
const IDS_PER_QUERY = 50;

/**
 * Lists the current run of each workflow matching every clause, newest first. A run that continued as new, or that a
 * later run under the same id replaced (a reset by hand, a payment seen again), keeps the search attributes it ended
 * with: it is left out, so a stage list never shows a workflow at a stage it has since left.
 */
export async function listCurrentRuns(ctx: OpsContext, clauses: string[], limit = DEFAULT_LIST_LIMIT): Promise<WorkflowExecutionInfo[]> {
  const notHandedOver = `ExecutionStatus != 'ContinuedAsNew'`;
  const rows = await listExecutions(ctx, [...clauses, notHandedOver], limit);
  // A running run is its workflow's current one (only one can be open per id); a closed one may have been replaced.
  const closedIds = [...new Set(rows.filter((r) => r.status.name !== 'RUNNING').map((r) => r.workflowId))];
  const newest = new Map<string, WorkflowExecutionInfo>();
  for (const ids of chunks(closedIds, IDS_PER_QUERY)) {
    const runs = await listExecutions(ctx, [`WorkflowId IN (${ids.map(literal).join(', ')})`, notHandedOver], MAX_LIST_LIMIT);
    for (const run of runs) {
      const seen = newest.get(run.workflowId);
      if (!seen || run.startTime > seen.startTime) newest.set(run.workflowId, run);
    }
  }
  const current = (r: WorkflowExecutionInfo) => r.status.name === 'RUNNING' || (newest.get(r.workflowId)?.runId ?? r.runId) === r.runId;
  return rows.filter(current).sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The filters every staging list shares: stage, "needs attention" (running and parked), customer. */
export function stageClauses(filter: { stage?: string; attention?: boolean; customerNumber?: string }): string[] {
  const clauses: string[] = [];
  if (filter.stage) clauses.push(`Stage = ${literal(filter.stage)}`);
  if (filter.attention) clauses.push(`Stage = 'needs_attention'`, `ExecutionStatus = 'Running'`);
  if (filter.customerNumber) clauses.push(`CustomerNumber = ${literal(filter.customerNumber)}`);
  return clauses;
}

/** The columns every staging row shares, from the execution and its search attributes. */
export function stagedRow(wf: WorkflowExecutionInfo) {
  const sa = wf.typedSearchAttributes;
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    status: wf.status.name,
    stage: sa.get(Stage) ?? null,
    attentionReason: sa.get(AttentionReason) ?? null,
    customerNumber: sa.get(CustomerNumber) ?? null,
    startTime: wf.startTime.toISOString(),
  };
}

import type { WorkflowExecutionInfo } from '@temporalio/client';
import { AttentionReason, CustomerNumber, Stage } from '../temporal/searchAttributes';
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

/** A reset by hand starts a new run under the same id: keep only the newest run of each workflow. */
export function newestRunPerWorkflow(rows: WorkflowExecutionInfo[]): WorkflowExecutionInfo[] {
  const byId = new Map<string, WorkflowExecutionInfo>();
  for (const row of rows) {
    const seen = byId.get(row.workflowId);
    if (!seen || row.startTime > seen.startTime) byId.set(row.workflowId, row);
  }
  return [...byId.values()].sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
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

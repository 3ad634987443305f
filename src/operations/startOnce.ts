import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Target } from '../temporal/starters';

/** A long-running service workflow, and whether this call started it or found it running. */
export interface ServiceWorkflow {
  workflowId: string;
  status: 'started' | 'running';
}

/**
 * Starts a workflow unless one with its id runs (then left as it is, with its own input). FAIL rather than USE_EXISTING
 * on a running one, so the answer says which happened; an ended run is followed by a new one either way.
 */
export async function startOnce<W extends Workflow>(t: Target, workflow: W, options: WorkflowStartOptions<W>): Promise<ServiceWorkflow> {
  try {
    await t.client.workflow.start(workflow, { ...options, workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL });
    return { workflowId: options.workflowId, status: 'started' };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: options.workflowId, status: 'running' };
    throw err;
  }
}

import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { describeWorker } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

export interface SystemCheckResult {
  workflowId: string;
  taskQueue: string;
  worker: { pid: number; activities: string[] };
}

/** Proves the wiring end to end: client → server → worker → activity → result. Used by `arsync doctor` and tests. */
export async function systemCheck(): Promise<SystemCheckResult> {
  const worker = await describeWorker();
  const info = workflowInfo();
  return { workflowId: info.workflowId, taskQueue: info.taskQueue, worker };
}

import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

// The engine ceiling: the shape of an invoice's sync (a start and the same number of sequential activities, local and
// regular, as the invoice workflow ran) with no-op bodies, bundled and run on its own task queue. What it reaches on
// the bench's server is what Temporal and the SDK allow on this machine; arsync's figure is compared with it.

export interface NoopActivities {
  benchNoop(): Promise<void>;
}

const { benchNoop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });

export async function benchNoopWorkflow(activities: number, localActivities = 0): Promise<number> {
  for (let i = 0; i < localActivities; i++) await local.benchNoop();
  for (let i = 0; i < activities; i++) await benchNoop();
  return activities + localActivities;
}

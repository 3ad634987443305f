import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';

/** The engine ceiling's worker: the no-op workflow bundle and activity, with the worker limits arsync's worker has. */
export function createNoopWorker(connection: NativeConnection, taskQueue: string, workflowBundle: WorkflowBundleOption): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities: { benchNoop: async () => undefined },
    maxConcurrentActivityTaskExecutions: 100,
  });
}

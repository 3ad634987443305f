import fs from 'node:fs';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { DEFAULT_BUNDLE_PATH } from './bundle';

export interface WorkerWiring {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A pre-built bundle (src/worker/bundle.ts); production never bundles at start-up. */
  bundlePath?: string;
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflows kept in the worker's cache (env WORKER_MAX_CACHED_WORKFLOWS); undefined keeps the SDK default. */
  maxCachedWorkflows?: number;
}

/** The one place a worker is assembled: pre-built workflow bundle plus activities built from injected clients. */
export async function createArsyncWorker(w: WorkerWiring): Promise<Worker> {
  const codePath = w.bundlePath ?? DEFAULT_BUNDLE_PATH;
  if (!fs.existsSync(codePath)) {
    throw new Error(`workflow bundle not found at ${codePath}: run "npm run build" first`);
  }
  return Worker.create({
    connection: w.connection,
    namespace: w.namespace,
    taskQueue: w.taskQueue,
    workflowBundle: { codePath },
    activities: createActivities(w.deps),
    maxConcurrentActivityTaskExecutions: w.maxConcurrentActivityTaskExecutions ?? 100,
    maxCachedWorkflows: w.maxCachedWorkflows,
    // The SDK sends a heartbeat at most every 0.8 x the heartbeat timeout: 4 s of the journal poster's 5, leaving 1 s
    // for the heartbeat's trip on a busy machine before the server gives the attempt up while it still runs. The
    // poster beats every second; let each beat through (one small call a second, for the one heartbeating activity).
    maxHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '10s',
  });
}

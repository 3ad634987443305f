import fs from 'node:fs';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { DEFAULT_BUNDLE_PATH } from './bundle';
import { heartbeatWhileRunning } from './heartbeats';

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
    interceptors: { activity: [heartbeatWhileRunning] },
    // The SDK would send a heartbeat at most every 0.8 x the heartbeat timeout, leaving a fifth of it for the beat's
    // trip on a busy machine. Activities beat every quarter of their timeout (src/worker/heartbeats.ts), and only once
    // they have run that long: let each beat through.
    maxHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '10s',
  });
}

import fs from 'node:fs';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { postingTaskQueue } from '../../workflows/ids';
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

/**
 * The worker a deployment runs: workflows and every activity on the task queue, and the journal poster with its commit
 * on a task queue of its own (`postingTaskQueue`), polled by a second SDK worker in the same process with a cache of
 * its own. Every queued payment waits for that one workflow; on the shared queue its tasks would wait behind whatever
 * backlog an outage or a restart left, and hundreds of payments waking at once would evict it from the cache, to be
 * replayed from its long history on every task. Both run and stop together.
 */
export class ArsyncWorker {
  constructor(
    readonly main: Worker,
    readonly posting: Worker,
  ) {}

  getState(): ReturnType<Worker['getState']> {
    return this.main.getState();
  }

  /** Starts a graceful shutdown of both (in-flight activities get the grace time). */
  shutdown(): void {
    for (const w of [this.main, this.posting]) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** Runs both until shut down; either one ending (a shutdown or a fatal error) ends the other. */
  async run(): Promise<void> {
    const runs = [this.main, this.posting].map((w) => w.run().finally(() => this.shutdown()));
    const failed = (await Promise.allSettled(runs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Runs both while `work` runs, then shuts them down; resolves with its result. */
  async runUntil<R>(work: Promise<R> | (() => Promise<R>)): Promise<R> {
    const running = this.run();
    try {
      const stopped = running.then(() => Promise.reject(new Error('the worker stopped before the work was done')));
      stopped.catch(() => undefined); // the race takes it; once the work is done, nobody needs to
      return await Promise.race([typeof work === 'function' ? work() : work, stopped]);
    } finally {
      this.shutdown();
      await running;
    }
  }
}

/** The one place a worker is assembled: pre-built workflow bundle plus activities built from injected clients. */
export async function createArsyncWorker(w: WorkerWiring): Promise<ArsyncWorker> {
  const codePath = w.bundlePath ?? DEFAULT_BUNDLE_PATH;
  if (!fs.existsSync(codePath)) {
    throw new Error(`workflow bundle not found at ${codePath}: run "npm run build" first`);
  }
  const activities = createActivities(w.deps);
  const common: Pick<WorkerOptions, 'connection' | 'namespace' | 'interceptors' | 'maxHeartbeatThrottleInterval' | 'shutdownGraceTime'> = {
    connection: w.connection,
    namespace: w.namespace,
    interceptors: { activity: [heartbeatWhileRunning] },
    // The SDK would send a heartbeat at most every 0.8 x the heartbeat timeout, leaving a fifth of it for the beat's
    // trip on a busy machine. Activities beat every quarter of their timeout (src/worker/heartbeats.ts), and only once
    // they have run that long: let each beat through.
    maxHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '10s',
  };
  const main = await Worker.create({
    ...common,
    taskQueue: w.taskQueue,
    workflowBundle: { codePath },
    // All of them, the poster and its commit too: a run started on this queue before the poster had its own still
    // finds a worker (until its next continue-as-new, which moves it).
    activities,
    maxConcurrentActivityTaskExecutions: w.maxConcurrentActivityTaskExecutions ?? 100,
    maxCachedWorkflows: w.maxCachedWorkflows,
  });
  const posting = await Worker.create({
    ...common,
    taskQueue: postingTaskQueue(w.taskQueue),
    // The journal poster and its commit: one workflow and one activity at a time per batch, a few batches at most,
    // always in this worker's cache.
    workflowBundle: { codePath },
    activities: { postJournalBatch: activities.postJournalBatch },
    maxConcurrentActivityTaskExecutions: 10,
    maxCachedWorkflows: 10,
  });
  return new ArsyncWorker(main, posting);
}

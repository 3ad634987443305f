import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import { createNoopWorker } from '../lib/noopWorker';
import { benchNoopWorkflow } from '../workflows';
import { forEachLimit } from '../lib/stats';
import { cpuMark, cpuSince } from '../lib/cpu';

/** What each invoice workflow ran up to the portal, which the no-op workflow repeats. */
export interface SyncShape {
  activities: number;
  localActivities: number;
}

export interface CeilingResult {
  workflows: number;
  shape: SyncShape;
  seconds: number;
  perSecond: number;
  /** CPU seconds per process while the workflows ran, and the wall time. */
  cpu: ReturnType<typeof cpuSince>;
}

/** Builds the ceiling workflow's own bundle (once per run), its module preloaded as arsync's are (src/worker/bundle.ts). */
export async function buildNoopBundle(): Promise<string> {
  const noop = () => undefined;
  const workflowsPath = path.resolve(__dirname, '../workflows.ts');
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    preloadModules: [workflowsPath],
    logger: { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop },
  });
  return code;
}

/** Where the ceiling's workflows run: a worker made here, in this process, or one polling `taskQueue` already. */
export type CeilingWorker = { inProcess: { address: string; code: string } } | { taskQueue: string };

/**
 * The engine ceiling: `n` workflows of the sync's shape in sequential no-op activities on their own task queue and worker
 * (same worker limits as arsync's), started `startConcurrency` at a time; first start → last completion.
 */
export async function ceiling(where: CeilingWorker, client: Client, n: number, shape: SyncShape, startConcurrency: number, pids: Record<string, number>): Promise<CeilingResult> {
  const own = 'inProcess' in where ? await inProcessWorker(where.inProcess.address, where.inProcess.code) : null;
  const taskQueue = own ? own.taskQueue : (where as { taskQueue: string }).taskQueue;
  try {
    const cpu0 = cpuMark(pids);
    const t0 = Date.now();
    const results: Array<Promise<number>> = [];
    await forEachLimit(
      Array.from({ length: n }, (_, i) => i),
      startConcurrency,
      async (i) => {
        const handle = await client.workflow.start(benchNoopWorkflow, { taskQueue, workflowId: `bench-noop-${i}-${taskQueue}`, args: [shape.activities, shape.localActivities] });
        results.push(handle.result());
      },
    );
    await Promise.all(results);
    const seconds = (Date.now() - t0) / 1000;
    return { workflows: n, shape, seconds, perSecond: n / seconds, cpu: cpuSince(cpu0, pids) };
  } finally {
    await own?.stop();
  }
}

async function inProcessWorker(address: string, code: string): Promise<{ taskQueue: string; stop(): Promise<void> }> {
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `bench-noop-${randomUUID()}`;
  const worker = await createNoopWorker(connection, taskQueue, { code });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

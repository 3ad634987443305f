import path from 'node:path';
import { workerHeapEnv } from '../../src/stack/services';
import type { BcLimits } from './bcClient';
import { ChildWorker } from './childWorker';
import type { BenchStack } from './stack';

/**
 * arsync's worker in a process of its own, as `npm start` runs it (bench/lib/workerMain.ts: the production factory,
 * bundle and activities), joined to the bench stack: the Business Central client's limits, the workflow cache and the
 * V8 old-space limit as given (0 or undefined: the production default; heap 0: Node's default).
 */
export function arsyncWorkerProcess(
  stack: BenchStack,
  o: { bcLimits?: BcLimits; maxCachedWorkflows?: number; heapMb?: number; nodeArgs?: readonly string[] } = {},
): ChildWorker {
  return new ChildWorker(
    stack.client,
    {
      ...stack.workerEnv,
      ...(o.bcLimits ? { BENCH_BC_RATE_PER_MINUTE: String(o.bcLimits.ratePerMinute), BENCH_BC_MAX_CONCURRENT: String(o.bcLimits.maxConcurrent) } : {}),
      ...(o.maxCachedWorkflows ? { BENCH_MAX_CACHED_WORKFLOWS: String(o.maxCachedWorkflows) } : {}),
      // A smaller heap is collected sooner, so less garbage stays resident.
      ...workerHeapEnv(o.heapMb ?? 0),
    },
    path.resolve(__dirname, 'workerMain.ts'),
    o.nodeArgs,
  );
}

import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { loadConfigOrExit } from '../../src/config/load';
import { createLogger } from '../../src/observability/logger';
import { createTemporalClient, createWorkerConnection } from '../../src/temporal/connection';
import { createArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import { bcClientWithLimits } from './bcClient';

// The bench's worker process: workers/main.ts minus metrics, plus two knobs. The Business Central client's rate limit
// (BENCH_BC_RATE_PER_MINUTE, BENCH_BC_MAX_CONCURRENT), which the production entrypoint takes from its defaults; and, as
// an experiment, the SDK's workflow cache size (BENCH_MAX_CACHED_WORKFLOWS), which the project's worker factory leaves
// to the SDK default (derived from the heap limit): with it set, the worker is built with the factory's other options
// and that cache size. The bench runs the memory phase here so the process measured is the worker alone.
async function main() {
  const config = loadConfigOrExit();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = createLogger('bench-worker', config.env.LOG_LEVEL);
  const connection = await createWorkerConnection(config.env);
  const temporal = await createTemporalClient(config.env);
  const deps = createActivityDeps(config, log, temporal);
  const rate = Number(process.env.BENCH_BC_RATE_PER_MINUTE);
  const inFlight = Number(process.env.BENCH_BC_MAX_CONCURRENT);
  if (rate > 0 && inFlight > 0) deps.bc = bcClientWithLimits(config.env, { ratePerMinute: rate, maxConcurrent: inFlight }, log);
  const cache = Number(process.env.BENCH_MAX_CACHED_WORKFLOWS);
  const worker =
    cache > 0
      ? await Worker.create({
          connection,
          namespace: config.env.TEMPORAL_NAMESPACE,
          taskQueue: config.env.TEMPORAL_TASK_QUEUE,
          workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! },
          activities: createActivities(deps),
          maxConcurrentActivityTaskExecutions: 100,
          shutdownGraceTime: '10s',
          maxCachedWorkflows: cache,
        })
      : await createArsyncWorker({
          connection,
          namespace: config.env.TEMPORAL_NAMESPACE,
          taskQueue: config.env.TEMPORAL_TASK_QUEUE,
          deps,
          bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
        });
  await worker.run();
  await connection.close();
  await temporal.connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

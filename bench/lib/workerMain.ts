import { DefaultLogger, Runtime } from '@temporalio/worker';
import { businessCentralFromConfig } from '../../src/config/clients';
import { loadConfigOrExit } from '../../src/config/load';
import { createLogger } from '../../src/observability/logger';
import { createTemporalClient, createWorkerConnection } from '../../src/temporal/connection';
import { createArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';

// The bench's worker process: workers/main.ts minus metrics, plus two knobs: the Business Central client's rate limit
// (BENCH_BC_RATE_PER_MINUTE, BENCH_BC_MAX_CONCURRENT), which the production entrypoint takes from its defaults, and
// the workflow cache size (BENCH_MAX_CACHED_WORKFLOWS, else WORKER_MAX_CACHED_WORKFLOWS as in production). The bench
// runs the memory phase here so the process measured is the worker alone.
async function main() {
  const config = loadConfigOrExit();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = createLogger('bench-worker', config.env.LOG_LEVEL);
  const connection = await createWorkerConnection(config.env);
  const temporal = await createTemporalClient(config.env);
  const deps = createActivityDeps(config, log, temporal);
  const rate = Number(process.env.BENCH_BC_RATE_PER_MINUTE);
  const inFlight = Number(process.env.BENCH_BC_MAX_CONCURRENT);
  if (rate > 0 && inFlight > 0) deps.bc = businessCentralFromConfig(config, log, { ratePerMinute: rate, maxConcurrent: inFlight });
  const cache = Number(process.env.BENCH_MAX_CACHED_WORKFLOWS);
  const worker = await createArsyncWorker({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.TEMPORAL_TASK_QUEUE,
    deps,
    bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
    maxCachedWorkflows: cache > 0 ? cache : config.env.WORKER_MAX_CACHED_WORKFLOWS,
  });
  await worker.run();
  deps.email.close();
  await connection.close();
  await temporal.connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { loadConfigOrExit } from '../src/config/load';
import { createLogger } from '../src/observability/logger';
import { createTemporalClient, createWorkerConnection } from '../src/temporal/connection';
import { createArsyncWorker } from '../src/worker/createWorker';
import { createActivityDeps } from '../src/worker/deps';

// Worker entrypoint: Prometheus metrics through the SDK runtime, pre-built bundle, graceful shutdown on
// SIGINT/SIGTERM (the SDK's default shutdown signals: in-flight activities get the grace time to finish).
async function main() {
  const config = loadConfigOrExit();
  const log = createLogger('worker', config.env.LOG_LEVEL);
  Runtime.install({
    logger: new DefaultLogger(config.env.LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN'),
    telemetryOptions: {
      metrics: { prometheus: { bindAddress: config.env.WORKER_METRICS_ADDRESS }, metricPrefix: 'temporal_' },
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
    },
  });
  const connection = await createWorkerConnection(config.env);
  // Activities that start or message other workflows use an ordinary client of their own.
  const temporal = await createTemporalClient(config.env);
  const deps = createActivityDeps(config, log, temporal);
  const worker = await createArsyncWorker({
    connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.TEMPORAL_TASK_QUEUE,
    deps,
    bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
    maxCachedWorkflows: config.env.WORKER_MAX_CACHED_WORKFLOWS,
  });
  log.info(
    { taskQueue: config.env.TEMPORAL_TASK_QUEUE, metrics: `http://${config.env.WORKER_METRICS_ADDRESS}/metrics` },
    'worker started',
  );
  await worker.run();
  deps.email.close(); // pooled SMTP connections
  await connection.close();
  await temporal.connection.close();
  log.info('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

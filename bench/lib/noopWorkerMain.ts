import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

// The engine ceiling's worker in a process of its own (`--worker process`, where arsync's worker has one too): the
// no-op workflow bundle (BENCH_NOOP_BUNDLE, a file) on TEMPORAL_TASK_QUEUE, with the in-process ceiling worker's limits.
async function main() {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  const codePath = process.env.BENCH_NOOP_BUNDLE;
  if (!address || !taskQueue || !codePath) throw new Error('TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE and BENCH_NOOP_BUNDLE are required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath },
    activities: { benchNoop: async () => undefined },
    maxConcurrentActivityTaskExecutions: 100,
  });
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

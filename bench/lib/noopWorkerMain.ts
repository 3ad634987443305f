import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createNoopWorker } from './noopWorker';

// The engine ceiling's worker in a process of its own (`--worker process`, where arsync's worker has one too): the
// no-op workflow bundle (BENCH_NOOP_BUNDLE, a file) on TEMPORAL_TASK_QUEUE.
async function main() {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  const codePath = process.env.BENCH_NOOP_BUNDLE;
  if (!address || !taskQueue || !codePath) throw new Error('TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE and BENCH_NOOP_BUNDLE are required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await createNoopWorker(connection, taskQueue, { codePath });
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config/load';
import { createTemporalClient, createWorkerConnection } from '../../src/temporal/connection';
import { createArsyncWorker, type ArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import { createLogger } from '../../src/observability/logger';
import type { ActivityDeps } from '../../activities';

/** The shared dev server started by globalSetup, through the project's own client factory. */
export function testEnv() {
  return loadConfig({ ...process.env }).env;
}

/** Production activity deps built from configuration (overrides for the environment, e.g. sandbox URLs). */
export function testDeps(t: TestTemporal, taskQueue: string, env: NodeJS.ProcessEnv = {}): ActivityDeps {
  const config = loadConfig({ ...process.env, ...env, TEMPORAL_TASK_QUEUE: taskQueue });
  return createActivityDeps(config, createLogger('test', 'warn'), t.client);
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

export interface TestTemporal {
  client: Client;
  connection: NativeConnection;
  close(): Promise<void>;
}

export async function connectTemporal(): Promise<TestTemporal> {
  const env = testEnv();
  const client = await createTemporalClient(env);
  const connection = await createWorkerConnection(env);
  return {
    client,
    connection,
    async close() {
      await client.connection.close();
      await connection.close();
    },
  };
}

/** A worker built by the project's worker factory, on its own task queue, from the run's pre-built bundle. */
export function createTestWorker(t: TestTemporal, taskQueue: string, deps: ActivityDeps = testDeps(t, taskQueue)): Promise<ArsyncWorker> {
  return createArsyncWorker({
    connection: t.connection,
    namespace: testEnv().TEMPORAL_NAMESPACE,
    taskQueue,
    deps,
    bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
  });
}

import { Connection } from '@temporalio/client';
import { devServerSearchAttributeFlags } from './searchAttributes';

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  dbFile?: string;
  namespace?: string;
}

/** argv for `temporal server start-dev` with the project's search attributes registered by flag. */
export function devServerArgs(o: DevServerOptions): string[] {
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(o.port),
    ...(o.uiPort ? ['--ui-port', String(o.uiPort)] : ['--headless']),
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...(o.namespace && o.namespace !== 'default' ? ['--namespace', o.namespace] : []),
    '--log-level', 'error',
    // Offline machines: no outbound version check; Updates enabled for finance resolution.
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    // One node: task queue partitions only add forwarding between them (about 4 % more workflows/s with one).
    '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
    ...devServerSearchAttributeFlags(),
  ];
}

/** The frontend accepts TCP before it answers: wait until a real call succeeds. */
export async function waitForTemporal(address: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not become ready within ${timeoutMs} ms: ${String(lastError)}`);
}

import type { Client } from '@temporalio/client';
import { loadConfigOrExit, type Config } from '../config/load';
import { createTemporalClient } from '../temporal/connection';

/** Runs a CLI action with configuration and a Temporal client, closing the connection afterwards. */
export async function withTemporal<T>(fn: (ctx: { config: Config; client: Client }) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const client = await createTemporalClient(config.env);
  try {
    return await fn({ config, client });
  } finally {
    await client.connection.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

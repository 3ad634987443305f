import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Env } from '../config/env';

type TemporalEnv = Pick<
  Env,
  'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS' | 'TEMPORAL_TLS_CERT_PATH' | 'TEMPORAL_TLS_KEY_PATH' | 'TEMPORAL_TLS_SERVER_NAME'
>;

// One place that turns the environment into connection options: plain for the embedded dev server; TLS (mTLS
// client certificate or API key) for a real cluster or Temporal Cloud.
function tlsOptions(env: TemporalEnv) {
  const useTls = env.TEMPORAL_TLS || Boolean(env.TEMPORAL_API_KEY) || Boolean(env.TEMPORAL_TLS_CERT_PATH);
  if (!useTls) return undefined;
  const clientCertPair =
    env.TEMPORAL_TLS_CERT_PATH && env.TEMPORAL_TLS_KEY_PATH
      ? { crt: fs.readFileSync(env.TEMPORAL_TLS_CERT_PATH), key: fs.readFileSync(env.TEMPORAL_TLS_KEY_PATH) }
      : undefined;
  return { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME, clientCertPair };
}

export function connectionOptions(env: TemporalEnv): ConnectionOptions & NativeConnectionOptions {
  return {
    address: env.TEMPORAL_ADDRESS,
    tls: tlsOptions(env),
    apiKey: env.TEMPORAL_API_KEY,
  } as ConnectionOptions & NativeConnectionOptions;
}

/** A workflow client for the API, CLI and tests. */
export async function createTemporalClient(env: TemporalEnv): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(env));
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
}

/** The worker's native connection. */
export function createWorkerConnection(env: TemporalEnv): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(env));
}

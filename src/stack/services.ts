import path from 'node:path';
import type { Config } from '../config/load';
import { waitForHttp } from './waitForHttp';

export interface StackService {
  name: string;
  /** Entry file relative to the project root, run with tsx. */
  entry: string;
  ports: number[];
  env?: NodeJS.ProcessEnv;
  urls: Array<[string, string]>;
  ready?: () => Promise<void>;
}

const portOf = (url: string) => Number(new URL(url).port);

/**
 * The processes `npm start` runs besides the Temporal dev server, in start order: the sandboxes and sinks (separate
 * servers imitating Business Central, Invoice Ninja, SMTP and SMS), then the worker and the API. The sandboxes take
 * their ports from the same configuration the service uses to reach them.
 */
export function STACK_SERVICES(config: Config, dataDir: string): StackService[] {
  const { env, settings } = config;
  const api = `http://${env.API_HOST}:${env.API_PORT}`;
  const metricsPort = Number(env.WORKER_METRICS_ADDRESS.split(':').pop());
  const bcPort = portOf(env.BC_BASE_URL);
  const portalUrl = settings.connections.default.url;
  const sinksUrl = env.SMS_BASE_URL;
  return [
    {
      name: 'sinks',
      entry: 'src/sandbox/sinks/main.ts',
      ports: [env.SMTP_PORT, portOf(sinksUrl)],
      env: { SINK_SMTP_PORT: String(env.SMTP_PORT), SINK_HTTP_PORT: String(portOf(sinksUrl)), SINK_DATA_DIR: dataDir },
      urls: [['Mail and SMS sinks', `${sinksUrl}/`]],
      ready: () => waitForHttp(`${sinksUrl}/mail`),
    },
    {
      name: 'bc-sandbox',
      entry: 'src/sandbox/businessCentral/main.ts',
      ports: [bcPort],
      env: {
        BC_SANDBOX_PORT: String(bcPort),
        BC_SANDBOX_DATA_FILE: path.join(dataDir, 'sandbox-bc.json'),
        BC_SANDBOX_NOTIFICATION_DELAY_MS: process.env.BC_SANDBOX_NOTIFICATION_DELAY_MS ?? '1000',
      },
      urls: [['Sandbox ERP (BC)', `${env.BC_BASE_URL}/admin/invoices  (header x-admin-token: arsync-sandbox-admin)`]],
      ready: () => waitForHttp(env.BC_BASE_URL, { anyStatus: true }),
    },
    {
      name: 'portal',
      entry: 'src/sandbox/invoiceNinja/main.ts',
      ports: [portOf(portalUrl)],
      env: {
        IN_SANDBOX_PORT: String(portOf(portalUrl)),
        IN_SANDBOX_DATA_FILE: path.join(dataDir, 'sandbox-in.json'),
        IN_SANDBOX_PUBLIC_URL: portalUrl,
      },
      urls: [['Sandbox portal (IN)', `${portalUrl}/client`]],
      ready: () => waitForHttp(portalUrl, { anyStatus: true }),
    },
    {
      name: 'worker',
      entry: 'workers/main.ts',
      env: workerHeapEnv(env.WORKER_HEAP_MB),
      ports: [metricsPort],
      urls: [['Worker metrics', `http://${env.WORKER_METRICS_ADDRESS}/metrics`]],
    },
    {
      name: 'api',
      entry: 'src/http/main.ts',
      ports: [env.API_PORT],
      urls: [['arsync API', `${api}/health`]],
      ready: () => waitForHttp(`${api}/health`),
    },
  ];
}

/** A V8 heap limit for the worker process, added to whatever NODE_OPTIONS already says (0: none). */
export function workerHeapEnv(heapMb: number): Record<string, string> {
  if (heapMb <= 0) return {};
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, `--max-old-space-size=${heapMb}`].filter(Boolean).join(' ') };
}

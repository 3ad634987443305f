import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { businessCentralFromConfig } from '../../src/config/clients';
import { loadConfig, type Config } from '../../src/config/load';
import { createApiServer } from '../../src/http/server';
import { createLogger } from '../../src/observability/logger';
import { opsContext, type OpsContext } from '../../src/operations/context';
import { createBusinessCentralSandbox, type BusinessCentralSandbox } from '../../src/sandbox/businessCentral/server';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja/server';
import { createSinks, type Sinks } from '../../src/sandbox/sinks';
import { freePort } from '../../src/stack/ports';
import { createArsyncWorker, type ArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import type { ActivityDeps } from '../../activities';
import { HARNESS, stackEnv } from '../../test/support/stackEnv';
import type { BcLimits } from './bcClient';

// The product in one process for the bench and the chaos run, adapted from the test harness (test/support/stack.ts):
// both sandboxes (webhook delay and notification coalescing 0), the sinks, our API and, optionally, a worker built by
// the project's worker factory, all against a Temporal server the caller started. Only configuration differs from
// `npm start`; the one deliberate knob is the Business Central client's rate limit (see `bcLimits`).

export type { BcLimits };

/** Requests the bench itself makes carry this header and are not counted as the product's. */
export const BENCH_HEADER = 'x-bench-probe';

export interface BenchStackOptions {
  temporalAddress: string;
  /** The pre-built workflow bundle the worker loads. */
  bundlePath: string;
  /** Settings sections merged over the bench defaults. */
  settings?: Record<string, unknown>;
  /** Start a worker in this process (default true). */
  worker?: boolean;
  /** The base URL Business Central and Invoice Ninja are told to call (a proxy in the chaos run); default our API. */
  publicUrl?: string;
  /** Business Central client limits; undefined keeps the production defaults (1,200 requests/min, 5 in flight). */
  bcLimits?: BcLimits;
  /** Pending (bank) portal payments settle on their own after this long. */
  pendingSettleMs?: number;
  /** Portal client limits for the sandbox connection (production default 800/min, 8 in flight). */
  portalLimits?: { ratePerMinute: number; maxConcurrent: number };
  maxConcurrentActivityTaskExecutions?: number;
}

export interface BenchStack {
  client: Client;
  bc: BusinessCentralSandbox;
  portal: InvoiceNinjaSandbox;
  sinks: Sinks;
  api: FastifyInstance;
  apiUrl: string;
  config: Config;
  deps: ActivityDeps;
  ops: OpsContext;
  taskQueue: string;
  /** API requests received so far by each sandbox (from anyone: the product, and the bench's own checks). */
  requests: { bc: number; portal: number };
  /** The environment a worker process needs to join this stack (workers/main.ts reads only its environment). */
  workerEnv: NodeJS.ProcessEnv;
  readonly worker: ArsyncWorker | null;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const bc = await createBusinessCentralSandbox({
    clientId: 'arsync-demo',
    clientSecret: 'arsync-demo-secret',
    tenantId: 'sandbox-tenant',
    environment: 'production',
    notificationDelayMs: 0,
    notificationRetryDelaysMs: [200, 500, 1000, 2000, 5000],
    seed: true,
  });
  const portal = await createInvoiceNinjaSandbox({ apiTokens: [HARNESS.portalToken], webhookDelayMs: 0, pendingSettleMs: opts.pendingSettleMs });
  // Every API request the product makes to either system, counted at the door (cost per invoice, quota arithmetic).
  const requests = { bc: 0, portal: 0 };
  bc.app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/v2.0/') && !req.headers[BENCH_HEADER]) requests.bc++;
  });
  portal.app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/v1/') && !req.headers[BENCH_HEADER]) requests.portal++;
  });
  const bcUrl = await bc.listen(0);
  const portalUrl = await portal.listen(0);
  const sinks = await createSinks({ smtpPort: 0, httpPort: 0, ...HARNESS.sms });
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const taskQueue = `bench-${randomUUID()}`;

  const limits = opts.portalLimits ?? { ratePerMinute: 60_000, maxConcurrent: 16 };
  const settings = {
    ...opts.settings,
    connections: { default: { url: portalUrl, tokenEnv: 'INVOICE_NINJA_TOKEN', ...limits } },
    polling: { paymentsInterval: '1s', viewsInterval: '1s', erpLedgerInterval: '5s', driftSweepInterval: '1d', ...(opts.settings?.polling as object) },
  };
  const harness = stackEnv({ settings, tmpPrefix: 'arsync-bench-', taskQueue, bc, bcUrl, sinks, apiPort, publicUrl: opts.publicUrl ?? apiUrl });
  const env: NodeJS.ProcessEnv = {
    ...harness.env,
    TEMPORAL_ADDRESS: opts.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    ARSYNC_WORKFLOW_BUNDLE: opts.bundlePath,
    LOG_LEVEL: 'error',
  };
  const config = loadConfig({ PATH: process.env.PATH, ...env });
  // Errors only, on stderr: stdout carries the figures.
  const logger = createLogger('bench', 'error', pino.destination(2));
  const connection = await Connection.connect({ address: opts.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const bcClient = businessCentralFromConfig(config, logger, opts.bcLimits);
  const api = await createApiServer({ config, temporal: client, logger, bc: bcClient });
  await api.listen({ host: '127.0.0.1', port: apiPort });
  const deps: ActivityDeps = { ...createActivityDeps(config, logger, client), bc: bcClient };

  let nativeConnection: NativeConnection | null = null;
  let worker: ArsyncWorker | null = null;
  let running: Promise<void> = Promise.resolve();
  const startWorker = async () => {
    nativeConnection ??= await NativeConnection.connect({ address: opts.temporalAddress });
    worker = await createArsyncWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps,
      bundlePath: opts.bundlePath,
      maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions,
      // As npm start runs it (workers/main.ts): a round's invoices evict the rounds' before them from the cache.
      maxCachedWorkflows: config.env.WORKER_MAX_CACHED_WORKFLOWS,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') {
      worker.shutdown();
      await running;
    }
    worker = null;
  };
  if (opts.worker !== false) await startWorker();

  return {
    client,
    bc,
    portal,
    sinks,
    api,
    apiUrl,
    config,
    deps,
    ops: opsContext(client, config),
    taskQueue,
    requests,
    workerEnv: env,
    get worker() {
      return worker;
    },
    startWorker,
    stopWorker,
    async close() {
      // The Temporal server is the caller's and is thrown away with its workflows; just stop our parts.
      await stopWorker();
      await nativeConnection?.close();
      deps.email.close();
      await api.close();
      await portal.close();
      await bc.close();
      await sinks.close();
      await connection.close();
      fs.rmSync(harness.dir, { recursive: true, force: true });
    },
  };
}

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createBusinessCentralSandbox, type BusinessCentralSandbox } from '../../src/sandbox/businessCentral/server';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja/server';
import { createSinks, type Sinks } from '../../src/sandbox/sinks';
import { loadConfig, type Config } from '../../src/config/load';
import { createApiServer } from '../../src/http/server';
import { createLogger } from '../../src/observability/logger';
import { opsContext, type OpsContext } from '../../src/operations/context';
import { freePort } from '../../src/stack/ports';
import { createArsyncWorker, type ArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import type { ActivityDeps } from '../../activities';
import { onDeploymentQueues } from '../../src/temporal/taskQueues';
import { HARNESS, stackEnv } from './stackEnv';

export { eventually } from './wait';
import { eventually } from './wait';
import { invoiceState } from '../../src/operations/invoices';
import type { InvoiceState } from '../../workflows/invoiceTypes';
import { connectTemporal, uniqueTaskQueue, type TestTemporal } from './temporal';

/**
 * The whole product in one test process, each part over real HTTP/SMTP: both sandboxes and the sinks on free ports,
 * our API server, and a worker built by the project's worker factory on its own task queue, against the shared
 * Temporal dev server. Only the configuration differs from `npm start`.
 */
export interface TestStack {
  t: TestTemporal;
  bc: BusinessCentralSandbox;
  /** Every Business Central API request the sandbox received, in order: method and decoded URL. */
  bcRequests: string[];
  portal: InvoiceNinjaSandbox;
  sinks: Sinks;
  api: FastifyInstance;
  apiUrl: string;
  worker: ArsyncWorker;
  config: Config;
  deps: ActivityDeps;
  ops: OpsContext;
  /** Restarts the worker (same task queue), e.g. after killing it. */
  restartWorker(): Promise<void>;
  /** Shuts the worker down (workflows wait, webhooks still start and signal them); restartWorker brings one back. */
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Settings overrides (deep-merged at the top level sections). */
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Start the worker (default true). */
  worker?: boolean;
  /** More changed records than this in one notification window become one `collection` notification (BC: 1,000). */
  bcCollectionThreshold?: number;
}

export async function startStack(opts: StackOptions = {}): Promise<TestStack> {
  const t = await connectTemporal();
  const bc = await createBusinessCentralSandbox({
    clientId: 'arsync-demo',
    clientSecret: 'arsync-demo-secret',
    tenantId: 'sandbox-tenant',
    environment: 'production',
    notificationDelayMs: 0,
    notificationRetryDelaysMs: [100, 200, 400, 800],
    collectionThreshold: opts.bcCollectionThreshold,
    seed: true,
    // Workflow ids carry the company id: a company of its own keeps this stack's workflows apart from every other
    // test's on the shared Temporal server.
    companyId: randomUUID(),
  });
  const bcRequests: string[] = [];
  bc.app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/v2.0/')) bcRequests.push(`${req.method} ${decodeURIComponent(req.url)}`);
  });
  const bcUrl = await bc.listen(0);
  const portal = await createInvoiceNinjaSandbox({ apiTokens: [HARNESS.portalToken], webhookDelayMs: 0, idSalt: randomUUID() });
  const portalUrl = await portal.listen(0);
  const sinks = await createSinks({ smtpPort: 0, httpPort: 0, ...HARNESS.sms });
  const apiPort = await freePort();
  const taskQueue = uniqueTaskQueue('stack');

  const settings = {
    ...opts.settings,
    connections: { default: { url: portalUrl, tokenEnv: 'INVOICE_NINJA_TOKEN', ratePerMinute: 60000, maxConcurrent: 16 } },
    polling: { paymentsInterval: '2s', viewsInterval: '300ms', erpLedgerInterval: '1s', driftSweepInterval: '1d', ...(opts.settings?.polling as object) },
  };
  const harness = stackEnv({ settings, tmpPrefix: 'arsync-stack-', taskQueue, bc, bcUrl, sinks, apiPort, publicUrl: `http://127.0.0.1:${apiPort}` });
  const config = loadConfig({
    ...process.env,
    ...harness.env,
    LOG_LEVEL: 'warn',
    ...opts.env,
  });
  const logger = createLogger('stack', 'warn');
  const api = await createApiServer({ config, temporal: t.client, logger });
  await api.listen({ host: '127.0.0.1', port: apiPort });
  const deps = createActivityDeps(config, logger, t.client);

  let worker!: ArsyncWorker;
  let running: Promise<void> = Promise.resolve();
  const startWorker = async () => {
    worker = await createArsyncWorker({ connection: t.connection, namespace: config.env.TEMPORAL_NAMESPACE, taskQueue, deps, bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE });
    running = worker.run();
  };
  if (opts.worker !== false) await startWorker();

  const stack: TestStack = {
    t,
    bc,
    bcRequests,
    portal,
    sinks,
    api,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    get worker() {
      return worker;
    },
    config,
    deps,
    ops: opsContext(t.client, config),
    async restartWorker() {
      await stack.stopWorker();
      await startWorker();
    },
    async stopWorker() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
    async close() {
      // Stop the long-lived workflows of this stack so the shared server does not keep timers for them.
      for await (const wf of t.client.workflow.list({ query: `${onDeploymentQueues(taskQueue)} AND ExecutionStatus = 'Running'` })) {
        await t.client.workflow.getHandle(wf.workflowId).terminate('test stack closed').catch(() => undefined);
      }
      if (worker && worker.getState() === 'RUNNING') {
        worker.shutdown();
        await running;
      }
      deps.email.close();
      await api.close();
      await portal.close();
      await bc.close();
      await sinks.close();
      await t.close();
      fs.rmSync(harness.dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** The invoice's state once it reaches `stage` (its workflow queried until then, at most `ms`). */
export function invoiceAt(s: TestStack, number: string, stage: InvoiceState['stage'], ms = 10000): Promise<InvoiceState> {
  return eventually(async () => {
    const st = await invoiceState(s.ops, number);
    return st.stage === stage && st;
  }, ms, `invoice ${number} ${stage}`);
}

/** One stack for a test file: started before its tests (`start`), handed over with `set`, closed after them. */
export function useStack(start: () => Promise<TestStack>, set: (stack: TestStack) => void, timeoutMs = 60000): void {
  let stack: TestStack | undefined;
  beforeAll(async () => {
    stack = await start();
    set(stack);
  }, timeoutMs);
  afterAll(async () => {
    await stack?.close();
  });
}

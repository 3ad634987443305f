import type { ActivityDeps } from '../../activities';
import type { Config } from '../../src/config/load';
import { createLogger } from '../../src/observability/logger';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja/server';
import { createArsyncWorker, type ArsyncWorker } from '../../src/worker/createWorker';
import { createActivityDeps } from '../../src/worker/deps';
import { eventually, startStack, type StackOptions, type TestStack } from './stack';

// "Use Customer-Specific Connections" under test: the stack's own settings know the default connection only; this
// worker (same task queue) adds the EXPORT posting group's connection to a second portal sandbox, then the portal
// webhooks, the service workflows and the BC subscription are started as a deployment would.

const EXPORT_TOKEN_ENV = 'INVOICE_NINJA_EXPORT_TOKEN';

export interface ExportPortalStack {
  s: TestStack;
  exportPortal: InvoiceNinjaSandbox;
  /** The worker's activity dependencies: its portal clients know both connections. */
  deps: ActivityDeps;
  close(): Promise<void>;
}

export async function startExportPortalStack(opts: { stack?: StackOptions; settings?: Partial<Config['settings']> } = {}): Promise<ExportPortalStack> {
  const s = await startStack({ ...opts.stack, worker: false });
  const exportPortal = await createInvoiceNinjaSandbox({ apiTokens: ['export-portal-token'], webhookDelayMs: 0 });
  const exportUrl = await exportPortal.listen(0);
  process.env[EXPORT_TOKEN_ENV] = 'export-portal-token';
  const config: Config = {
    ...s.config,
    settings: {
      ...s.config.settings,
      ...opts.settings,
      connections: {
        ...s.config.settings.connections,
        byPostingGroup: { EXPORT: { url: exportUrl, tokenEnv: EXPORT_TOKEN_ENV, ratePerMinute: 60000, maxConcurrent: 16 } },
      },
    },
  };
  const deps = createActivityDeps(config, createLogger('test', 'warn'), s.t.client);
  const worker: ArsyncWorker = await createArsyncWorker({
    connection: s.t.connection,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.TEMPORAL_TASK_QUEUE,
    deps,
    bundlePath: process.env.ARSYNC_WORKFLOW_BUNDLE,
  });
  const running = worker.run();
  await registerPortalWebhooks(s.ops, s.deps.portals);
  await startServiceWorkflows(s.ops, deps.portals);
  await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
  return {
    s,
    exportPortal,
    deps,
    async close() {
      // This worker first: the stack closes the connection it polls on.
      if (worker.getState() === 'RUNNING') {
        worker.shutdown();
        await running;
      }
      deps.email.close();
      await s.close();
      await exportPortal.close();
      delete process.env[EXPORT_TOKEN_ENV];
    },
  };
}

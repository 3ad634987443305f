import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/load';
import type { Logger } from '../observability/logger';
import type { BusinessCentralClient } from '../adapters/businessCentral';
import { businessCentralFromConfig } from '../config/clients';
import { DEFAULT_CONNECTION } from '../../workflows/ids';
import { registerBcWebhook } from './routes/bcWebhook';
import { registerPortalWebhook } from './routes/portalWebhook';
import { registerOperatorRoutes } from './routes/operator';
import { registerErpSyncRoutes } from './routes/erpSync';
import { registerServiceRoutes } from './routes/services';
import { apiErrorHandler } from './errors';

export interface ApiDeps {
  config: Config;
  temporal: Client;
  logger: Logger;
  /** Defaults to the configured Business Central environment. */
  bc?: BusinessCentralClient;
  /** How long an operator route waits for a workflow's answer before 504 (default 30 s). */
  operatorCallTimeoutMs?: number;
}

/** Our HTTP API: health now; webhook receivers and operator/finance routes register themselves here. */
export async function createApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as unknown as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  app.setErrorHandler(apiErrorHandler);
  app.get('/health', async (_req, reply) => {
    try {
      await deps.temporal.connection.workflowService.getSystemInfo({});
      return { status: 'ok', temporal: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'degraded', temporal: String((err as Error).message) });
    }
  });
  const target = { client: deps.temporal, taskQueue: deps.config.env.TEMPORAL_TASK_QUEUE };
  const connectionKeys = [DEFAULT_CONNECTION, ...Object.keys(deps.config.settings.connections.byPostingGroup)];
  registerBcWebhook(app, { config: deps.config, bc: deps.bc ?? businessCentralFromConfig(deps.config, deps.logger), temporal: target, logger: deps.logger });
  registerPortalWebhook(app, { config: deps.config, temporal: target, logger: deps.logger, connectionKeys });
  registerOperatorRoutes(app, deps, { callTimeoutMs: deps.operatorCallTimeoutMs });
  registerErpSyncRoutes(app, deps);
  registerServiceRoutes(app, deps);
  return app;
}

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/load';
import type { Logger } from '../observability/logger';

export interface ApiDeps {
  config: Config;
  temporal: Client;
  logger: Logger;
}

/** Our HTTP API: health now; webhook receivers and operator/finance routes register themselves here. */
export async function createApiServer(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as unknown as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  app.get('/health', async (_req, reply) => {
    try {
      await deps.temporal.connection.workflowService.getSystemInfo({});
      return { status: 'ok', temporal: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'degraded', temporal: String((err as Error).message) });
    }
  });
  return app;
}

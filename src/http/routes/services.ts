import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { opsContext } from '../../operations/context';
import { actor } from '../../operations/inputs';
import { startServices } from '../../operations/services';
import { createPortalDirectory } from '../../worker/portals';
import { requireBearerToken } from '../auth';
import { parseRequest } from '../errors';
import type { ApiDeps } from '../server';

// POST /api/v1/services/start (bearer token): the same operation as `arsync services start`, for a deployment that
// would rather call its API after a release than run the CLI.

const body = z.object({ by: actor }).strict();

export function registerServiceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const ctx = opsContext(deps.temporal, deps.config, { callTimeoutMs: deps.operatorCallTimeoutMs ?? 30_000 });
  const portals = createPortalDirectory(deps.config);
  app.register(
    async (api) => {
      api.addHook('onRequest', requireBearerToken(deps.config.env.API_TOKEN));
      api.post('/services/start', async (req) => {
        parseRequest(body, 'body', req.body);
        return startServices(ctx, portals);
      });
    },
    { prefix: '/api/v1' },
  );
}

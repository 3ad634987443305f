import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { opsContext } from '../../operations/context';
import { listUnsyncedApplications, resetApplications, syncApplications } from '../../operations/erpApplications';
import { erpWatcherState, pollErpNow, runReport, startDriftSweep, startWindowSync, windowChoice } from '../../operations/erpSync';
import { actor, reason } from '../../operations/inputs';
import { removeSchedules, setupSchedules } from '../../operations/schedules';
import { requireBearerToken } from '../auth';
import { parseRequest } from '../errors';
import type { ApiDeps } from '../server';

// Payments made in the ERP, for operators (/api/v1/erp, bearer token): the watcher, the unsynced applications list and
// sync, window syncs, drift sweeps and their schedules. The same operations as `arsync erp …` and `arsync schedule …`.

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const sinceOf = (d: string | undefined) => (d ? `${d}T00:00:00.000Z` : undefined);
const entryNumber = z.number({ error: (issue) => (issue.input === undefined ? undefined : 'a ledger entry number') }).int().positive();
/** The ledger entries a sync or a reset is for. */
const entries = z.array(entryNumber).min(1, 'select at least one ledger entry').max(500);
/** How long a run may take before the answer is 202 with its progress (the run goes on). */
const waitSeconds = z.coerce.number().int().min(0).max(300);

const schemas = {
  applications: z.object({ since: day.optional() }).strict(),
  sync: z.object({ entries, since: day.optional(), by: actor }).strict(),
  reset: z.object({ entries, by: actor, why: reason }).strict(),
  windowSync: z.object({ window: windowChoice, by: actor, waitSeconds: waitSeconds.optional() }).strict(),
  driftSweep: z.object({ by: actor, waitSeconds: waitSeconds.optional() }).strict(),
  // Actions that change no money take no body; one who names themself may.
  by: z.object({ by: actor.optional() }).strict(),
  schedules: z.object({ by: actor.optional(), windowSyncEvery: z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like "1d"').optional() }).strict(),
  run: z.object({ workflowId: z.string().min(1).max(300) }).strict(),
};

export function registerErpSyncRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const ctx = opsContext(deps.temporal, deps.config, { callTimeoutMs: deps.operatorCallTimeoutMs ?? 30_000 });
  app.register(
    async (api) => {
      api.addHook('onRequest', requireBearerToken(deps.config.env.API_TOKEN));

      api.get('/erp/watcher', async () => erpWatcherState(ctx));
      api.post('/erp/watcher/poll', async (req, reply) => {
        parseRequest(schemas.by, 'body', req.body ?? {});
        return reply.code(202).send(await pollErpNow(ctx));
      });

      api.get('/erp/applications', async (req) => {
        const q = parseRequest(schemas.applications, 'query', req.query);
        return { applications: await listUnsyncedApplications(ctx, { sinceIso: sinceOf(q.since) }) };
      });
      api.post('/erp/applications/sync', async (req) => {
        const b = parseRequest(schemas.sync, 'body', req.body);
        return syncApplications(ctx, { entries: b.entries, sinceIso: sinceOf(b.since), by: b.by });
      });
      api.post('/erp/applications/reset', async (req) => {
        const b = parseRequest(schemas.reset, 'body', req.body);
        return resetApplications(ctx, { entries: b.entries, by: b.by, why: b.why });
      });

      api.post('/erp/window-sync', async (req, reply) => {
        const b = parseRequest(schemas.windowSync, 'body', req.body);
        const res = await startWindowSync(ctx, { window: b.window, by: b.by }, { waitMs: b.waitSeconds === undefined ? undefined : b.waitSeconds * 1000 });
        return reply.code(res.done ? 200 : 202).send(res);
      });
      api.get('/erp/window-sync/:workflowId', async (req) => runReport(ctx, 'window-sync', parseRequest(schemas.run, 'params', req.params).workflowId));

      api.post('/erp/drift-sweep', async (req, reply) => {
        const b = parseRequest(schemas.driftSweep, 'body', req.body);
        const res = await startDriftSweep(ctx, { by: b.by }, { waitMs: b.waitSeconds === undefined ? undefined : b.waitSeconds * 1000 });
        return reply.code(res.done ? 200 : 202).send(res);
      });
      api.get('/erp/drift-sweep/:workflowId', async (req) => runReport(ctx, 'drift-sweep', parseRequest(schemas.run, 'params', req.params).workflowId));

      api.post('/schedules/setup', async (req) => {
        const b = parseRequest(schemas.schedules, 'body', req.body ?? {});
        return { schedules: await setupSchedules(ctx, { windowSyncEvery: b.windowSyncEvery }) };
      });
      api.post('/schedules/remove', async (req) => {
        parseRequest(schemas.by, 'body', req.body ?? {});
        return { schedules: await removeSchedules(ctx) };
      });
    },
    { prefix: '/api/v1' },
  );
}

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listAttention } from '../../operations/attention';
import { OperationError, opsContext } from '../../operations/context';
import { customerState, resetCustomer, setOptIn, syncCustomers } from '../../operations/customers';
import {
  actor,
  bulk,
  channels,
  connectionKey,
  customerNumber,
  invoiceNumber,
  invoiceStage,
  listLimit,
  paymentStage,
  portalPaymentId,
  reason,
  resolution,
} from '../../operations/inputs';
import {
  cancelInvoice,
  copyLink,
  invoiceState,
  invoiceTimeline,
  listInvoices,
  previewLink,
  resetInvoice,
  sendLink,
  startInvoices,
} from '../../operations/invoices';
import { listPayments, paymentState, resolve, retry } from '../../operations/payments';
import { requireBearerToken } from '../auth';
import { parseRequest } from '../errors';
import { DEFAULT_CONNECTION } from '../../../workflows/ids';
import type { ApiDeps } from '../server';

// Operator and finance routes under /api/v1: the same operations as the CLI, behind a bearer token. Every body, query and
// path parameter is validated; finance actions name who acts ("by") and, where they change state, why.

export interface OperatorRouteOptions {
  /** How long one Temporal call may wait for a workflow's answer before the route answers 504. */
  callTimeoutMs?: number;
}

export const OPERATOR_BODY_LIMIT = 64 * 1024;

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const invoiceParams = z.object({ number: invoiceNumber }).strict();
const customerParams = z.object({ number: customerNumber }).strict();
const paymentParams = z.object({ connection: connectionKey, paymentId: portalPaymentId }).strict();
const whoAndWhy = z.object({ by: actor, why: reason }).strict();

const schemas = {
  startInvoices: z.object({ numbers: bulk(invoiceNumber) }).strict(),
  invoiceList: z.object({ stage: invoiceStage.optional(), customer: customerNumber.optional(), attention: flag.optional(), limit: listLimit.optional() }).strict(),
  sendLink: z.object({ channels: channels.optional(), by: actor }).strict(),
  by: z.object({ by: actor }).strict(),
  optIn: z.object({ numbers: bulk(customerNumber), optedIn: z.boolean().default(true), autoBill: z.boolean().optional(), by: actor }).strict(),
  sync: z.object({ numbers: bulk(customerNumber), by: actor }).strict(),
  paymentList: z
    .object({
      stage: paymentStage.optional(),
      customer: customerNumber.optional(),
      invoice: invoiceNumber.optional(),
      attention: flag.optional(),
      ended: flag.optional(),
      limit: listLimit.optional(),
    })
    .strict(),
  attention: z.object({ limit: listLimit.optional() }).strict(),
};

export function registerOperatorRoutes(app: FastifyInstance, deps: ApiDeps, opts: OperatorRouteOptions = {}): void {
  const ctx = opsContext(deps.temporal, deps.config, { callTimeoutMs: opts.callTimeoutMs ?? 30_000 });
  const connections = new Set([DEFAULT_CONNECTION, ...Object.keys(deps.config.settings.connections.byPostingGroup)]);
  const paymentRef = (params: unknown) => {
    const p = parseRequest(paymentParams, 'params', params);
    if (!connections.has(p.connection)) throw new OperationError(`unknown portal connection "${p.connection}"; known: ${[...connections].join(', ')}`, 404);
    return p;
  };

  app.register(
    async (api) => {
      api.addHook('onRoute', (route) => {
        route.bodyLimit = OPERATOR_BODY_LIMIT;
      });
      api.addHook('onRequest', requireBearerToken(deps.config.env.API_TOKEN));

      // Invoices
      api.post('/invoices', async (req, reply) => {
        const { numbers } = parseRequest(schemas.startInvoices, 'body', req.body);
        return reply.code(202).send({ invoices: await startInvoices(ctx, numbers) });
      });
      api.get('/invoices', async (req) => {
        const q = parseRequest(schemas.invoiceList, 'query', req.query);
        return { invoices: await listInvoices(ctx, { stage: q.stage, customerNumber: q.customer, attention: q.attention, limit: q.limit }) };
      });
      api.get('/invoices/:number', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        return invoiceState(ctx, number);
      });
      api.get('/invoices/:number/timeline', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        return { invoiceNumber: number, timeline: await invoiceTimeline(ctx, number) };
      });
      api.post('/invoices/:number/send-link', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        const body = parseRequest(schemas.sendLink, 'body', req.body);
        return { invoiceNumber: number, ...(await sendLink(ctx, number, body.by, body.channels)) };
      });
      api.post('/invoices/:number/copy-link', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        const body = parseRequest(schemas.by, 'body', req.body);
        return { invoiceNumber: number, ...(await copyLink(ctx, number, body.by)) };
      });
      api.get('/invoices/:number/preview-link', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        return { invoiceNumber: number, link: await previewLink(ctx, number) };
      });
      api.post('/invoices/:number/reset', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        const body = parseRequest(whoAndWhy, 'body', req.body);
        return { invoiceNumber: number, ...(await resetInvoice(ctx, number, body.by, body.why)) };
      });
      api.post('/invoices/:number/cancel', async (req) => {
        const { number } = parseRequest(invoiceParams, 'params', req.params);
        const body = parseRequest(whoAndWhy, 'body', req.body);
        return cancelInvoice(ctx, number, body.by, body.why);
      });

      // Customers
      api.post('/customers/opt-in', async (req) => {
        const body = parseRequest(schemas.optIn, 'body', req.body);
        return { customers: await setOptIn(ctx, body.numbers, { optedIn: body.optedIn, autoBill: body.autoBill, by: body.by }) };
      });
      api.post('/customers/sync', async (req) => {
        const body = parseRequest(schemas.sync, 'body', req.body);
        return { customers: await syncCustomers(ctx, body.numbers, body.by) };
      });
      api.get('/customers/:number', async (req) => {
        const { number } = parseRequest(customerParams, 'params', req.params);
        return customerState(ctx, number);
      });
      api.post('/customers/:number/reset', async (req) => {
        const { number } = parseRequest(customerParams, 'params', req.params);
        const body = parseRequest(whoAndWhy, 'body', req.body);
        return resetCustomer(ctx, number, body.by, body.why);
      });

      // Payments (the staging list) and finance decisions
      api.get('/payments', async (req) => {
        const q = parseRequest(schemas.paymentList, 'query', req.query);
        return {
          payments: await listPayments(ctx, { stage: q.stage, customerNumber: q.customer, invoiceNumber: q.invoice, attention: q.attention, ended: q.ended, limit: q.limit }),
        };
      });
      api.get('/payments/:connection/:paymentId', async (req) => {
        const p = paymentRef(req.params);
        return paymentState(ctx, p.connection, p.paymentId);
      });
      api.post('/payments/:connection/:paymentId/resolve', async (req) => {
        const p = paymentRef(req.params);
        const body = parseRequest(resolution, 'body', req.body);
        return resolve(ctx, p.connection, p.paymentId, body);
      });
      api.post('/payments/:connection/:paymentId/retry', async (req, reply) => {
        const p = paymentRef(req.params);
        const body = parseRequest(whoAndWhy, 'body', req.body);
        return reply.code(202).send(await retry(ctx, p.connection, p.paymentId, body));
      });

      api.get('/attention', async (req) => {
        const q = parseRequest(schemas.attention, 'query', req.query);
        return listAttention(ctx, q.limit);
      });
    },
    { prefix: '/api/v1' },
  );
}

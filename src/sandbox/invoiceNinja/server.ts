import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { FaultInjector } from '../common/faults';
import type { TaxArithmetic } from './calc';
import { createAdmin, type InvoiceNinjaSandboxAdmin, registerAdminRoutes } from './admin';
import { APP_VERSION, ApiError, sendApiError } from './apiHttp';
import { DEFAULT_FEES, type FeeSettings, type SandboxContext } from './context';
import { settlePending } from './gateway';
import { PAYMENT_STATUS } from './model';
import { registerInvoicePage } from './portal/invoicePage';
import { registerPayPage } from './portal/payPage';
import { registerClientRoutes } from './routes/clients';
import { registerInvoiceRoutes } from './routes/invoices';
import { registerPaymentRoutes } from './routes/payments';
import { registerWebhookRoutes } from './routes/webhooks';
import { SandboxStore } from './store';
import { clientOut, invoiceOut, paymentOut } from './transform';
import { WebhookDispatcher, type WebhookEntity } from './webhooks';

// The Invoice Ninja sandbox: its own fastify server speaking the v5 API subset of contracts/invoice-ninja.md
// (clients, invoices, payments, webhooks, documents) plus the client portal's invoice and pay pages.

export interface InvoiceNinjaSandboxOptions {
  /** JSON file the state survives restarts in; undefined keeps it in memory. */
  dataFile?: string;
  /** Accepted X-API-TOKEN values (each acts as an admin user of the one sandbox company). */
  apiTokens: string[];
  /** Base URL customers reach the portal at (invitation links); defaults to the listening address. */
  publicUrl?: string;
  /** Delay before each webhook delivery (Invoice Ninja queues payment events 20-25 s; 0 by default). */
  webhookDelayMs?: number;
  /** Pending bank payments complete on their own after this long; without it they wait for the admin route. */
  pendingSettleMs?: number;
  fees?: Partial<FeeSettings>;
  /** Exact decimal taxes (default), or binary floats that land a cent off on some .xx5 values as PHP's can. */
  taxArithmetic?: TaxArithmetic;
  /** Value of the X-Sandbox-Admin-Token header the /admin routes require. */
  adminToken?: string;
  /** Salt of the hashed ids (default '' like a stock install); tests give each portal its own. */
  idSalt?: string;
  logger?: boolean;
}

export interface InvoiceNinjaSandbox {
  app: FastifyInstance;
  listen(port: number, host?: string): Promise<string>;
  /** Base URL once listening (publicUrl if given). */
  readonly url: string;
  close(): Promise<void>;
  faults: FaultInjector;
  admin: InvoiceNinjaSandboxAdmin;
}

export const DEFAULT_ADMIN_TOKEN = 'sandbox-admin-token';

type FormValue = string | string[];

function parseForm(body: string): Record<string, FormValue> {
  const out: Record<string, FormValue> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export async function createInvoiceNinjaSandbox(opts: InvoiceNinjaSandboxOptions): Promise<InvoiceNinjaSandbox> {
  if (opts.apiTokens.length === 0) throw new Error('at least one API token is required');
  const tokens = new Set(opts.apiTokens);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 10 * 1024 * 1024 });
  const store = new SandboxStore(opts.dataFile, opts.webhookDelayMs ?? 0, opts.idSalt);
  if (opts.webhookDelayMs !== undefined) store.state.webhookDelayMs = opts.webhookDelayMs;
  let listeningUrl = opts.publicUrl?.replace(/\/$/, '') ?? '';
  const publicUrl = () => listeningUrl;

  const render = (entity: WebhookEntity, id: string): unknown => {
    if (entity === 'payment') {
      const p = store.payment(id);
      return p && paymentOut(store, p, publicUrl(), new Set(['invoices', 'client']));
    }
    if (entity === 'invoice') {
      const i = store.invoice(id);
      return i && invoiceOut(store, i, publicUrl(), new Set(['client']));
    }
    const c = store.client(id);
    return c && clientOut(store, c, publicUrl());
  };
  const hooks = new WebhookDispatcher(store, render, app.log);

  const settleTimers = new Map<string, NodeJS.Timeout>();
  const recent = new Map<string, number>();
  const ctx: SandboxContext = {
    store,
    hooks,
    publicUrl,
    fees: { ...DEFAULT_FEES, ...opts.fees },
    taxArithmetic: opts.taxArithmetic ?? 'exact',
    pendingSettleMs: opts.pendingSettleMs,
    schedulePending: (paymentId) => {
      const p = store.payment(paymentId);
      if (!p || p.settle_at === undefined) return;
      clearTimeout(settleTimers.get(paymentId));
      const timer = setTimeout(() => {
        settleTimers.delete(paymentId);
        const current = store.payment(paymentId);
        if (current && current.status_id === PAYMENT_STATUS.PENDING && !current.is_deleted) settlePending(ctx, current);
      }, Math.max(0, p.settle_at - Date.now()));
      timer.unref();
      settleTimers.set(paymentId, timer);
    },
    guard: (key) => {
      const now = Date.now();
      for (const [k, expires] of recent) if (expires <= now) recent.delete(k);
      if (recent.has(key)) throw new ApiError(400, 'Duplicate request');
      recent.set(key, now + 1000);
    },
  };
  // Pending payments from before a restart settle on their original schedule.
  for (const p of store.payments()) if (p.status_id === PAYMENT_STATUS.PENDING && p.settle_at !== undefined) ctx.schedulePending(p.id);

  await app.register(multipart);
  // Laravel reads an empty JSON body as no input (a DELETE may carry Content-Type: application/json and nothing else).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ApiError(400, 'Malformed JSON body'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  const faults = new FaultInjector();
  faults.install(
    app,
    (req) => req.url.startsWith('/api/v1/'),
    (reply, status, message) => reply.code(status).send({ message: status === 429 ? 'Too many requests' : message }),
  );

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/v1/')) return;
    const token = req.headers['x-api-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return reply.code(403).send({ message: 'Invalid token', errors: {} });
  });
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/v1/')) reply.header('X-App-Version', APP_VERSION).header('X-Api-Version', APP_VERSION);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return sendApiError(req, reply, err);
    const e = err as { statusCode?: number; message?: string; code?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'sandbox error');
    if (status === 400 && e.code?.startsWith('FST_ERR_CTP')) return sendApiError(req, reply, new ApiError(400, `Malformed request body: ${e.message}`));
    return reply.code(status).send({ message: status >= 500 ? 'Server Error' : e.message });
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) return reply.code(404).send({ message: 'Route does not exist' });
    return reply.code(404).type('text/html; charset=utf-8').send('<!DOCTYPE html><title>Not found</title><p>Not found</p>');
  });

  registerClientRoutes(app, ctx);
  registerInvoiceRoutes(app, ctx);
  registerPaymentRoutes(app, ctx);
  registerWebhookRoutes(app, ctx);
  registerInvoicePage(app, ctx);
  registerPayPage(app, ctx);
  const admin = createAdmin(ctx, faults);
  registerAdminRoutes(app, admin, opts.adminToken ?? DEFAULT_ADMIN_TOKEN);
  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send('<!DOCTYPE html><title>Invoice Ninja sandbox</title><p>Invoice Ninja v5 API sandbox. API under /api/v1, client portal under /client.</p>'),
  );

  return {
    app,
    faults,
    admin,
    get url() {
      return listeningUrl;
    },
    async listen(port: number, host = '127.0.0.1') {
      const address = await app.listen({ port, host });
      if (!opts.publicUrl) listeningUrl = address.replace('[::1]', 'localhost');
      return listeningUrl;
    },
    async close() {
      for (const t of settleTimers.values()) clearTimeout(t);
      settleTimers.clear();
      await hooks.close();
      await app.close();
      store.flush();
    },
  };
}

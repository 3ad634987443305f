import Fastify, { type FastifyInstance } from 'fastify';
import { FaultInjector } from '../common/faults';
import { JsonStore } from '../common/jsonStore';
import { createAdmin, registerAdminRoutes, type BcAdmin } from './admin';
import { registerApi } from './api';
import { TokenIssuer } from './auth';
import { BcError, sendBcError } from './bcError';
import { companyOf, type ChangeEvent, type Ctx } from './ledger';
import { formatDecimal } from '../../domain/money';
import { emptyState, type BcState } from './model';
import { DEMO_COMPANY_ID, seedDemo, seedId } from './seed';
import { DEFAULT_RETRY_DELAYS_MS, Webhooks } from './webhooks';

// The Business Central sandbox: an Entra-like token endpoint, the API v2.0 subset (plus reportsFinance and the
// custom posting-group API), webhooks, and admin routes that act as an ERP user. State persists in a JSON file.

export interface BusinessCentralSandboxOptions {
  dataFile?: string;
  pageSize?: number;
  /** Notification coalescing window; BC waits 30 s. 0 sends on the next tick (tests). */
  notificationDelayMs?: number;
  /** Waits between notification attempts (default BC's 1, 1, 1, 10, 100 minutes). */
  notificationRetryDelaysMs?: number[];
  /** More changed records than this in one window become one `collection` notification (BC: 1000). */
  collectionThreshold?: number;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  environment: string;
  tokenTtlSeconds?: number;
  /** Header value required by /admin routes (x-admin-token). */
  adminToken?: string;
  /** Seed the demo company on an empty data file (default true). */
  seed?: boolean;
  /** Id of the seeded company (default the fixed demo id). */
  companyId?: string;
  logger?: boolean;
}

export interface BusinessCentralSandbox {
  app: FastifyInstance;
  /** Base URL after listen(), e.g. http://127.0.0.1:4010 */
  url: string;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
  faults: FaultInjector;
  admin: BcAdmin;
  companyId: string;
  /** Where clients get tokens: `${url}/${tenantId}/oauth2/v2.0/token`. */
  tokenUrl: string;
}

export const DEFAULT_ADMIN_TOKEN = 'arsync-sandbox-admin';

export async function createBusinessCentralSandbox(opts: BusinessCentralSandboxOptions): Promise<BusinessCentralSandbox> {
  const store = new JsonStore<BcState>(opts.dataFile, emptyState);
  const state = store.state;
  upgradeState(state);
  const companyId = opts.companyId ?? DEMO_COMPANY_ID;
  if (opts.seed !== false) {
    seedDemo(state, companyId);
    store.touch();
  }
  const touch = () => store.touch();
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 10 * 1024 * 1024 });
  // Bound actions are POSTed without a body, often still with a JSON content type: accept an empty JSON body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new BcError(400, 'BadRequest', 'The request body is not valid JSON.'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const auth = new TokenIssuer({
    tenantId: opts.tenantId,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 3599,
  });
  let webhooks: Webhooks | undefined;
  const ctx: Ctx = {
    state,
    emit: (ev: ChangeEvent) => {
      touch();
      webhooks?.onChange(ev);
    },
  };
  webhooks = new Webhooks(state, touch, {
    delayMs: opts.notificationDelayMs ?? 30_000,
    retryDelaysMs: opts.notificationRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    collectionThreshold: opts.collectionThreshold ?? 1000,
    handshakeTimeoutMs: 5000,
    maxSubscriptions: 200,
    userId: seedId(`app:${opts.clientId}`),
    log: (msg) => app.log.info(msg),
  });

  const faults = new FaultInjector();
  faults.install(
    app,
    (req) => req.url.startsWith('/v2.0/'),
    (reply, status, message) =>
      sendBcError(reply, status, status === 429 ? 'Application_TooManyRequests' : status === 504 ? 'Internal_GatewayTimeout' : 'Internal_ServerError', message),
  );

  app.setErrorHandler((err: Error, _req, reply) => {
    if (err instanceof BcError) return sendBcError(reply, err.status, err.code, err.message);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return sendBcError(reply, status, 'BadRequest', err.message);
    app.log.error(err);
    return sendBcError(reply, 500, 'Internal_ServerError', 'An unexpected error occurred.');
  });
  app.setNotFoundHandler((req, reply) => sendBcError(reply, 404, 'BadRequest_NotFound', `No HTTP resource was found that matches the request URI '${req.url}'.`));

  auth.register(app);
  registerApi(app, { tenantId: opts.tenantId, environment: opts.environment, pageSize: opts.pageSize ?? 20000, ctx, touch, auth, webhooks });
  const admin = createAdmin(ctx, touch, webhooks, auth, companyId);
  registerAdminRoutes(app, admin, faults, opts.adminToken ?? DEFAULT_ADMIN_TOKEN);

  const sandbox: BusinessCentralSandbox = {
    app,
    url: '',
    tokenUrl: '',
    faults,
    admin,
    companyId,
    async listen(port: number, host = '127.0.0.1') {
      await app.listen({ port, host });
      const addr = app.server.address();
      const actualPort = typeof addr === 'object' && addr ? addr.port : port;
      sandbox.url = `http://${host}:${actualPort}`;
      sandbox.tokenUrl = `${sandbox.url}/${opts.tenantId}/oauth2/v2.0/token`;
      return sandbox.url;
    },
    async close() {
      await webhooks!.close();
      await app.close();
      store.flush();
    },
  };
  return sandbox;
}

/** State saved before unit prices kept their 5 decimals held them in minor units (`unitPriceMinor`). */
function upgradeState(state: BcState): void {
  for (const inv of state.salesInvoices) {
    const currency = inv.currencyCode || companyOf(state, inv.companyId).lcyCode;
    for (const line of inv.lines as Array<BcState['salesInvoices'][number]['lines'][number] & { unitPriceMinor?: number }>) {
      if (line.unitPrice === undefined && line.unitPriceMinor !== undefined) {
        line.unitPrice = formatDecimal(line.unitPriceMinor, currency);
        delete line.unitPriceMinor;
      }
    }
  }
}

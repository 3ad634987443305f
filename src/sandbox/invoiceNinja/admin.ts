import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { faultPatchSchema, type FaultInjector, type FaultSettings } from '../common/faults';
import type { TaxArithmetic } from './calc';
import type { SandboxContext } from './context';
import { failPending, settlePending } from './gateway';
import type { OutboxEmail, WebhookDelivery } from './model';
import { paymentOut } from './transform';

// Test and operator controls that Invoice Ninja does not have: inspect the email outbox and webhook deliveries,
// settle or fail pending bank payments, set the webhook delay, inject faults. Same functions in process
// (`sandbox.admin`) and over HTTP under /admin, guarded by the shared admin token header.

export const ADMIN_TOKEN_HEADER = 'x-sandbox-admin-token';

export interface InvoiceNinjaSandboxAdmin {
  configureFaults(patch: Partial<FaultSettings>): FaultSettings;
  outbox(filter?: { to?: string; entityId?: string }): OutboxEmail[];
  webhookDeliveries(filter?: { webhookId?: string; eventId?: number }): WebhookDelivery[];
  setWebhookDelay(ms: number): void;
  /** How invoices computed from now on get their taxes: exact decimals, or floats a cent off on some .xx5 values. */
  setTaxArithmetic(mode: TaxArithmetic): void;
  /** A pending (bank) payment completes: status 4, update_payment fires. Returns the payment as the API prints it. */
  settlePayment(paymentId: string): Record<string, unknown>;
  /** A pending (bank) payment fails: status 3, invoice balances restored, update_payment fires. */
  failPayment(paymentId: string): Record<string, unknown>;
  /** The pay link of an invoice's first invitation (for demos and tests). */
  payLink(invoiceId: string): string | undefined;
  /** How many invoices the portal holds, deleted ones included (a bench's finish line, read without a request). */
  invoiceCount(): number;
}

export function createAdmin(ctx: SandboxContext, faults: FaultInjector): InvoiceNinjaSandboxAdmin {
  const payment = (id: string) => {
    const p = ctx.store.payment(id);
    if (!p) throw Object.assign(new Error(`payment ${id} not found`), { statusCode: 404 });
    return p;
  };
  return {
    configureFaults: (patch) => faults.configure(patch),
    invoiceCount: () => Object.keys(ctx.store.state.invoices).length,
    outbox: (filter = {}) =>
      ctx.store.state.outbox.filter(
        (e) => (!filter.to || e.to.toLowerCase() === filter.to.toLowerCase()) && (!filter.entityId || e.entity_id === filter.entityId),
      ),
    webhookDeliveries: (filter = {}) =>
      ctx.store.state.deliveries.filter(
        (d) => (!filter.webhookId || d.webhook_id === filter.webhookId) && (filter.eventId === undefined || d.event_id === String(filter.eventId)),
      ),
    setWebhookDelay: (ms) => {
      ctx.store.state.webhookDelayMs = Math.max(0, Math.floor(ms));
      ctx.store.touch();
    },
    setTaxArithmetic: (mode) => {
      ctx.taxArithmetic = mode;
    },
    settlePayment: (id) => paymentOut(ctx.store, settlePending(ctx, payment(id)), ctx.publicUrl(), new Set(['invoices'])),
    failPayment: (id) => paymentOut(ctx.store, failPending(ctx, payment(id)), ctx.publicUrl(), new Set(['invoices'])),
    payLink: (invoiceId) => {
      const key = ctx.store.invoice(invoiceId)?.invitations[0]?.key;
      return key ? `${ctx.publicUrl()}/client/pay/${key}` : undefined;
    },
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerAdminRoutes(app: FastifyInstance, admin: InvoiceNinjaSandboxAdmin, adminToken: string): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/admin/')) return;
    const token = req.headers[ADMIN_TOKEN_HEADER];
    if (typeof token !== 'string' || !sameToken(token, adminToken)) {
      return reply.code(403).send({ message: `Missing or wrong ${ADMIN_TOKEN_HEADER} header` });
    }
  });

  const badRequest = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

  app.get('/admin/faults', async () => admin.configureFaults({}));
  app.put('/admin/faults', async (req) => {
    const parsed = faultPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    return admin.configureFaults(parsed.data);
  });
  app.get('/admin/outbox', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return { data: admin.outbox({ to: q.to, entityId: q.entity_id }) };
  });
  app.get('/admin/webhook-deliveries', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return { data: admin.webhookDeliveries({ webhookId: q.webhook_id, eventId: q.event_id ? Number(q.event_id) : undefined }) };
  });
  app.put('/admin/webhook-delay', async (req) => {
    const parsed = z.object({ ms: z.number().int().min(0).max(600_000) }).safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest('ms: a whole number of milliseconds (0..600000) is required');
    admin.setWebhookDelay(parsed.data.ms);
    return { ms: parsed.data.ms };
  });
  app.put('/admin/tax-arithmetic', async (req) => {
    const parsed = z.object({ mode: z.enum(['exact', 'float']) }).safeParse(req.body ?? {});
    if (!parsed.success) throw badRequest('mode: "exact" or "float" is required');
    admin.setTaxArithmetic(parsed.data.mode);
    return { mode: parsed.data.mode };
  });
  app.post<{ Params: { id: string } }>('/admin/payments/:id/settle', async (req) => ({ data: admin.settlePayment(req.params.id) }));
  app.post<{ Params: { id: string } }>('/admin/payments/:id/fail', async (req) => ({ data: admin.failPayment(req.params.id) }));
}

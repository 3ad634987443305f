import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parsePaymentWebhook } from '../../adapters/invoiceNinja';
import type { Config } from '../../config/load';
import type { Logger } from '../../observability/logger';
import { observePayment, type Target } from '../../temporal/starters';
import { secretsEqual } from '../secrets';

export const PORTAL_WEBHOOK_SECRET_HEADER = 'x-arsync-webhook-secret';
export const PORTAL_WEBHOOK_EVENTS = ['create_payment', 'update_payment', 'delete_payment', 'restore_payment'] as const;

const params = z.object({ connection: z.string().min(1).max(64), event: z.enum(PORTAL_WEBHOOK_EVENTS) });

export interface PortalWebhookDeps {
  config: Config;
  temporal: Target;
  logger: Logger;
  connectionKeys: string[];
}

/**
 * Invoice Ninja webhooks, one URL per connection and event. The portal delivers at most once and archives a
 * subscription that answers 404/410, so a transient problem here answers 503, never 404. The payment workflow
 * re-reads the payment from the portal, so the body only has to identify it.
 */
export function registerPortalWebhook(app: FastifyInstance, deps: PortalWebhookDeps): void {
  app.post('/webhooks/invoice-ninja/:connection/:event', { bodyLimit: 256 * 1024 }, async (req, reply) => {
    if (!secretsEqual(req.headers[PORTAL_WEBHOOK_SECRET_HEADER] as string | undefined, deps.config.env.PORTAL_WEBHOOK_SECRET)) {
      return reply.code(401).send({ error: 'invalid_secret' });
    }
    const p = params.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'invalid_request', issues: p.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
    if (!deps.connectionKeys.includes(p.data.connection)) return reply.code(404).send({ error: 'unknown_connection', connection: p.data.connection });
    const payment = parsePaymentWebhook(req.body);
    if (!payment.success) return reply.code(422).send({ error: 'invalid_payment', message: payment.error });
    try {
      await observePayment(deps.temporal, deps.config.env.BC_COMPANY_ID, p.data.connection, payment.value.id, {
        source: 'webhook',
        updatedAt: payment.value.updatedAt,
        event: p.data.event,
      });
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, paymentId: payment.value.id }, 'could not hand the payment to Temporal');
      return reply.code(503).send({ error: 'temporarily_unavailable' });
    }
    return reply.code(200).send({ accepted: payment.value.id });
  });
}

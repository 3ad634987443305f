import type { FastifyInstance, FastifyRequest } from 'fastify';
import { chunks } from '../../adapters/chunks';
import { notificationPayloadSchema, type BcSalesInvoice, type BusinessCentralClient } from '../../adapters/businessCentral';
import type { Config } from '../../config/load';
import type { Logger } from '../../observability/logger';
import type { Target } from '../../temporal/starters';
import { mapLimit } from '../../operations/context';
import { pokeErpWatcher } from '../../operations/erpSync';
import { onErpInvoicesChanged } from '../../operations/erpInvoiceChanged';
import { BC_WEBHOOK_PATH } from '../../../activities/subscriptions';
import { secretsEqual } from '../secrets';

export interface BcWebhookDeps {
  config: Config;
  bc: BusinessCentralClient;
  temporal: Target;
  logger: Logger;
}

/** Items read together: one query for their invoices (BC's quota counts requests, not rows). */
const GROUP_SIZE = 20;
/** Groups handled at once (each reads, then starts its workflows): bounds the starts in flight to 40. */
const GROUP_CONCURRENCY = 2;
/** Invoices of one group (its items' invoices, and what its "collection" items read again) handled at once. */
const ITEM_CONCURRENCY = 32;
/** A notification's resource for one sales invoice: `…/salesInvoices(<guid>)`. */
const INVOICE_RESOURCE = /salesInvoices\(([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\)/;

/**
 * Business Central webhooks: the validation-token handshake, the clientState check on every notification, then GET
 * the resource and act only on posted invoices. We answer only after the workflows are started or signalled, so a
 * failure answers 5xx and Business Central delivers again (it retries 408/429/5xx) — nothing is lost.
 */
export function registerBcWebhook(app: FastifyInstance, deps: BcWebhookDeps): void {
  const companyId = deps.config.env.BC_COMPANY_ID;

  // Subscription handshake: echo the token as plain text. Business Central is reported to call it by POST; its method
  // is not documented, so a GET is answered too.
  const handshake = (req: FastifyRequest): string | null => {
    const token = (req.query as Record<string, unknown>).validationToken;
    return typeof token === 'string' && token.length > 0 ? token : null;
  };
  app.get(BC_WEBHOOK_PATH, async (req, reply) => {
    const token = handshake(req);
    if (token === null) return reply.code(400).send({ error: 'invalid_handshake', issues: [{ field: 'validationToken', message: 'required' }] });
    return reply.code(200).type('text/plain').send(token);
  });
  app.post(BC_WEBHOOK_PATH, { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    const token = handshake(req);
    if (token !== null) return reply.code(200).type('text/plain').send(token);
    const parsed = notificationPayloadSchema.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'invalid_notification', issues: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })) });
    }
    const trusted = parsed.data.value.filter((n) => secretsEqual(n.clientState, deps.config.env.BC_WEBHOOK_CLIENT_STATE));
    if (trusted.length === 0) {
      deps.logger.warn({ count: parsed.data.value.length }, 'Business Central notification with an unknown clientState refused');
      return reply.code(401).send({ error: 'unknown_client_state' });
    }
    // Too many changes to list (a `collection` item): what changed since the given time, read again.
    const collected = (n: (typeof trusted)[number]) => {
      const since = /lastModifiedDateTime(?:%20|\s)gt(?:%20|\s)([^&\s%]+)/.exec(n.resource)?.[1];
      return deps.bc.listSalesInvoices({ modifiedSince: since ?? n.lastModifiedDateTime, lines: false });
    };
    // Items are independent. The single-invoice items' invoices are read 20 to a query, and each group's workflows
    // start as soon as its reads return, a couple of groups at once: the first invoices start syncing after one read,
    // not after the whole notification's, and a large notification stays well inside BC's delivery timeout.
    const perGroup = await mapLimit(chunks(trusted, GROUP_SIZE), GROUP_CONCURRENCY, async (group) => {
      const singles = group.filter((n) => n.changeType !== 'deleted' && n.changeType !== 'collection').map((n) => INVOICE_RESOURCE.exec(n.resource)?.[1]);
      const read = await deps.bc.getSalesInvoicesByIds(singles.filter((id): id is string => !!id));
      const byId = new Map(read.map((inv) => [inv.id.toLowerCase(), inv]));
      const changed = [
        ...singles.map((id) => (id ? byId.get(id.toLowerCase()) : undefined)).filter((inv): inv is BcSalesInvoice => !!inv),
        ...(await Promise.all(group.filter((n) => n.changeType === 'collection').map(collected))).flat(),
      ];
      return onErpInvoicesChanged(deps, companyId, changed, ITEM_CONCURRENCY);
    });
    const results = perGroup.flat();
    // A posted invoice changed (possibly paid in the ERP): one nudge for the ledger watcher per delivery.
    if (results.some((r) => r.posted)) await pokeErpWatcher(deps.temporal, companyId);
    return reply.code(202).send({ accepted: results.map((r) => r.outcome) });
  });
}

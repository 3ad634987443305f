import type { FastifyBaseLogger } from 'fastify';
import { APP_VERSION } from './apiHttp';
import type { WebhookDelivery } from './model';
import { nowDateTime, nowSeconds, type SandboxStore } from './store';

// Webhook delivery as Invoice Ninja does it (contract §5): one subscription per event id; the body is the bare
// transformed record (no envelope, event name or delivery id), rendered when the job runs; custom headers are sent
// verbatim; at most once, no retries; a 404/405/410 reply archives the subscription so it never fires again.

export type WebhookEntity = 'client' | 'invoice' | 'payment';

/** How long a delivery waits for the target (Invoice Ninja's Guzzle client: 30 s total). */
const TIMEOUT_MS = 30_000;
const KEEP_DELIVERIES = 1000;

export class WebhookDispatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: SandboxStore,
    private readonly render: (entity: WebhookEntity, id: string) => unknown,
    private readonly log: FastifyBaseLogger,
  ) {}

  fire(eventId: number, entity: WebhookEntity, entityId: string): void {
    const subscriptions = Object.values(this.store.state.webhooks).filter(
      (w) => w.event_id === String(eventId) && !w.is_deleted && w.archived_at === 0,
    );
    for (const sub of subscriptions) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const p = this.deliver(sub.id, entity, entityId).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }, this.store.state.webhookDelayMs);
      this.timers.add(timer);
    }
  }

  private async deliver(webhookId: string, entity: WebhookEntity, entityId: string): Promise<void> {
    const sub = this.store.state.webhooks[webhookId];
    if (!sub || sub.is_deleted || sub.archived_at !== 0) return;
    const body = JSON.stringify(this.render(entity, entityId));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': `InvoiceNinja/${APP_VERSION}`,
      ...sub.headers,
    };
    const record: WebhookDelivery = {
      id: this.store.nextId('delivery'),
      webhook_id: sub.id,
      event_id: sub.event_id,
      target_url: sub.target_url,
      entity,
      entity_id: entityId,
      status: 0,
      archived_subscription: false,
      at: nowDateTime(),
      headers,
    };
    try {
      const res = await fetch(sub.target_url, {
        method: sub.rest_method.toUpperCase(),
        headers,
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      record.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 404 || res.status === 405 || res.status === 410) {
        sub.archived_at = nowSeconds();
        sub.updated_at = sub.archived_at;
        record.archived_subscription = true;
      }
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      this.log.warn({ webhook: sub.id, target: sub.target_url, err: record.error }, 'webhook delivery failed (dropped)');
    }
    const list = this.store.state.deliveries;
    list.push(record);
    if (list.length > KEEP_DELIVERIES) list.splice(0, list.length - KEEP_DELIVERIES);
    this.store.touch();
  }

  /** Waits for deliveries already sent; queued ones are dropped (at-most-once, like a stopped queue worker). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}

import { randomBytes, randomUUID } from 'node:crypto';
import { BcError, badRequest, dialog } from './bcError';
import { nowIso } from './clock';
import type { ChangeEvent, ChangeType } from './ledger';
import type { BcState, SubscriptionRec } from './model';

// Webhook subscriptions and notification delivery, following contracts/business-central.md §3:
// - create/renew run the validation handshake (POST notificationUrl?validationToken=…, 200 with the token as body);
// - subscriptions expire 3 days after creation or renewal; at most 200 per environment;
// - changes are coalesced over a window (30 s by default) per subscription and record, and more than
//   `collectionThreshold` records in one window become a single `collection` notification;
// - 408/429/5xx (or no answer) is retried on BC's schedule (5 attempts), then the subscription is deleted;
//   any other non-2xx deletes it at once.

export const SUPPORTED_RESOURCES = ['customers', 'salesInvoices', 'paymentMethods', 'customerPaymentJournals', 'journals', 'generalLedgerEntries'];
const EXPIRY_MS = 3 * 24 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 5;

export interface WebhookOptions {
  delayMs: number;
  /** Wait before attempt n+1 (BC: 1, 1, 1, 10, 100 minutes). */
  retryDelaysMs: number[];
  collectionThreshold: number;
  handshakeTimeoutMs: number;
  maxSubscriptions: number;
  userId: string;
  log?: (msg: string) => void;
}

export const DEFAULT_RETRY_DELAYS_MS = [60_000, 60_000, 60_000, 600_000, 6_000_000];

interface Pending {
  firstChangeAt: number;
  changes: Map<string, { changeType: ChangeType; at: string }>;
}

export interface NotificationItem {
  subscriptionId: string;
  clientState: string;
  expirationDateTime: string;
  resource: string;
  changeType: ChangeType | 'collection';
  lastModifiedDateTime: string;
}

/** Parses "…/api/v2.0/companies(<id>)/<entitySet>" into its parts. */
export function parseResource(resource: string): { companyId: string; entitySet: string } | undefined {
  const m = /(?:^|\/)api\/v2\.0\/companies\(([0-9a-fA-F-]{36})\)\/(\w+)$/.exec(resource.trim());
  return m ? { companyId: m[1].toLowerCase(), entitySet: m[2] } : undefined;
}

/** One notification attempt as the sandbox sent it: where, what, and the answer (undefined: none came). */
export interface NotificationDelivery {
  at: string;
  url: string;
  attempt: number;
  items: Array<Pick<NotificationItem, 'changeType' | 'resource'>>;
  status: number | undefined;
}

/** Deliveries kept for inspection (admin `notificationDeliveries`), newest last. */
const DELIVERY_LOG_LIMIT = 1000;

export class Webhooks {
  /** The latest notification attempts, for tests and operators. */
  readonly deliveries: NotificationDelivery[] = [];
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly state: BcState,
    private readonly touch: () => void,
    private readonly opts: WebhookOptions,
  ) {}

  list(): SubscriptionRec[] {
    this.purgeExpired();
    return this.state.subscriptions;
  }

  get(id: string): SubscriptionRec {
    this.purgeExpired();
    const s = this.state.subscriptions.find((x) => x.subscriptionId === id);
    if (!s) throw new BcError(404, 'BadRequest_NotFound', `The subscription ${id} does not exist.`);
    return s;
  }

  async create(body: { notificationUrl: string; resource: string; clientState?: string }, companyExists: (id: string) => boolean) {
    this.purgeExpired();
    this.checkResource(body.resource, companyExists);
    if (this.state.subscriptions.length >= this.opts.maxSubscriptions)
      throw dialog(`You have reached the maximum number of subscriptions (${this.opts.maxSubscriptions}).`);
    await this.handshake(body.notificationUrl);
    const at = nowIso();
    const sub: SubscriptionRec = {
      subscriptionId: randomBytes(16).toString('hex'),
      notificationUrl: body.notificationUrl,
      resource: body.resource,
      clientState: body.clientState ?? '',
      userId: this.opts.userId,
      expirationDateTime: new Date(Date.now() + EXPIRY_MS).toISOString(),
      createdAt: at,
      lastModifiedDateTime: at,
    };
    this.state.subscriptions.push(sub);
    this.touch();
    return sub;
  }

  /** Renewal (PATCH): handshake again, optionally new url/clientState, and a fresh 3-day expiry. */
  async renew(sub: SubscriptionRec, patch: { notificationUrl?: string; clientState?: string; resource?: string }, companyExists: (id: string) => boolean) {
    if (patch.resource !== undefined && patch.resource !== sub.resource) this.checkResource(patch.resource, companyExists);
    const url = patch.notificationUrl ?? sub.notificationUrl;
    await this.handshake(url);
    sub.notificationUrl = url;
    if (patch.clientState !== undefined) sub.clientState = patch.clientState;
    if (patch.resource !== undefined) sub.resource = patch.resource;
    sub.expirationDateTime = new Date(Date.now() + EXPIRY_MS).toISOString();
    sub.lastModifiedDateTime = nowIso();
    this.touch();
    return sub;
  }

  delete(id: string): void {
    const before = this.state.subscriptions.length;
    this.state.subscriptions = this.state.subscriptions.filter((s) => s.subscriptionId !== id);
    if (this.state.subscriptions.length === before) throw new BcError(404, 'BadRequest_NotFound', `The subscription ${id} does not exist.`);
    this.pending.delete(id);
    this.touch();
  }

  /** Records a change; subscribers on that entity set hear about it after the coalescing window. */
  onChange(ev: ChangeEvent): void {
    if (this.closed) return;
    for (const sub of this.list()) {
      const r = parseResource(sub.resource);
      if (!r || r.companyId !== ev.companyId.toLowerCase() || r.entitySet.toLowerCase() !== ev.entitySet.toLowerCase()) continue;
      const p = this.pending.get(sub.subscriptionId) ?? { firstChangeAt: Date.now(), changes: new Map() };
      const prev = p.changes.get(ev.id);
      // created then updated stays "created"; anything then deleted is "deleted".
      const changeType = ev.changeType === 'deleted' ? 'deleted' : prev?.changeType === 'created' ? 'created' : ev.changeType;
      p.changes.set(ev.id, { changeType, at: ev.at });
      this.pending.set(sub.subscriptionId, p);
    }
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.delayMs);
    }
  }

  /** Sends everything pending now (the admin "trigger notifications" action, and the window timer). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const byUrl = new Map<string, NotificationItem[]>();
    for (const [subscriptionId, p] of this.pending) {
      const sub = this.state.subscriptions.find((s) => s.subscriptionId === subscriptionId);
      if (!sub) continue;
      const r = parseResource(sub.resource)!;
      const base = `api/v2.0/companies(${r.companyId})/${r.entitySet}`;
      const items: NotificationItem[] =
        p.changes.size > this.opts.collectionThreshold
          ? [
              {
                subscriptionId,
                clientState: sub.clientState,
                expirationDateTime: sub.expirationDateTime,
                resource: `${base}?$filter=lastModifiedDateTime%20gt%20${new Date(p.firstChangeAt - 50).toISOString()}`,
                changeType: 'collection',
                lastModifiedDateTime: nowIso(),
              },
            ]
          : [...p.changes].map(([id, c]) => ({
              subscriptionId,
              clientState: sub.clientState,
              expirationDateTime: sub.expirationDateTime,
              resource: `${base}(${id})`,
              changeType: c.changeType,
              lastModifiedDateTime: c.at,
            }));
      byUrl.set(sub.notificationUrl, [...(byUrl.get(sub.notificationUrl) ?? []), ...items]);
    }
    this.pending.clear();
    await Promise.all([...byUrl].map(([url, items]) => this.track(this.deliver(url, items, 0))));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  private async deliver(url: string, items: NotificationItem[], attempt: number): Promise<void> {
    const live = items.filter((i) => this.state.subscriptions.some((s) => s.subscriptionId === i.subscriptionId));
    if (live.length === 0 || this.closed) return;
    let status: number | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', clientRequestId: randomUUID(), 'x-ms-correlation-id': randomUUID() },
        body: JSON.stringify({ value: live }),
        signal: AbortSignal.timeout(this.opts.handshakeTimeoutMs * 6),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = undefined; // no answer: treated like a 5xx
    }
    this.deliveries.push({ at: nowIso(), url, attempt, items: live.map(({ changeType, resource }) => ({ changeType, resource })), status });
    if (this.deliveries.length > DELIVERY_LOG_LIMIT) this.deliveries.splice(0, this.deliveries.length - DELIVERY_LOG_LIMIT);
    if (status !== undefined && status >= 200 && status < 300) return;
    const subIds = [...new Set(live.map((i) => i.subscriptionId))];
    const transient = status === undefined || status === 408 || status === 429 || status >= 500;
    if (transient && attempt + 1 < MAX_ATTEMPTS && !this.closed) {
      this.opts.log?.(`notification to ${url} failed (${status ?? 'no answer'}), retry ${attempt + 1}`);
      const delay = this.opts.retryDelaysMs[Math.min(attempt, this.opts.retryDelaysMs.length - 1)];
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.track(this.deliver(url, live, attempt + 1));
      }, delay);
      this.timers.add(t);
      return;
    }
    this.opts.log?.(`notification to ${url} failed (${status ?? 'no answer'}): deleting subscriptions ${subIds.join(', ')}`);
    this.state.subscriptions = this.state.subscriptions.filter((s) => !subIds.includes(s.subscriptionId));
    this.touch();
  }

  private checkResource(resource: string, companyExists: (id: string) => boolean) {
    const r = parseResource(resource ?? '');
    if (!r) throw badRequest(`The resource '${resource}' is not valid. Expected api/v2.0/companies({id})/{entitySet}.`);
    if (!companyExists(r.companyId)) throw new BcError(404, 'BadRequest_NotFound', `The company ${r.companyId} does not exist.`);
    if (!SUPPORTED_RESOURCES.includes(r.entitySet)) throw badRequest(`The entity set '${r.entitySet}' does not support webhooks.`);
  }

  private async handshake(notificationUrl: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(notificationUrl);
    } catch {
      throw badRequest(`The notificationUrl '${notificationUrl}' is not a valid absolute URL.`);
    }
    const token = randomUUID();
    url.searchParams.set('validationToken', token);
    let ok = false;
    try {
      const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(this.opts.handshakeTimeoutMs) });
      const text = await res.text();
      ok = res.status === 200 && text.trim().replace(/^"|"$/g, '') === token;
    } catch {
      ok = false;
    }
    if (!ok) throw dialog(`The subscription could not be created because the notification URL did not return the validation token within ${this.opts.handshakeTimeoutMs / 1000} seconds.`);
  }

  private purgeExpired() {
    const now = Date.now();
    const keep = this.state.subscriptions.filter((s) => Date.parse(s.expirationDateTime) > now);
    if (keep.length !== this.state.subscriptions.length) {
      this.state.subscriptions = keep;
      this.touch();
    }
  }
}

import Fastify, { type FastifyInstance } from 'fastify';
import { notificationPayloadSchema, type BcNotification } from '../../src/adapters/businessCentral';
import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { clientFor, startSandbox } from './harness';

// A tiny notification receiver: answers the validation handshake by echoing the token, records notifications, and
// replies with whatever status the test asks for.
interface Receiver {
  url: string;
  notifications: BcNotification[];
  handshakes: number;
  /** Statuses to answer notifications with, one per delivery (then 202). */
  replies: number[];
  echoToken: boolean;
  close(): Promise<void>;
  waitFor(n: number, timeoutMs?: number): Promise<BcNotification[]>;
}

async function startReceiver(): Promise<Receiver> {
  const app: FastifyInstance = Fastify();
  const r: Receiver = {
    url: '',
    notifications: [],
    handshakes: 0,
    replies: [],
    echoToken: true,
    close: () => app.close(),
    async waitFor(n, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (r.notifications.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} notifications, got ${r.notifications.length}`);
        await new Promise((res) => setTimeout(res, 20));
      }
      return r.notifications;
    },
  };
  app.post<{ Querystring: { validationToken?: string } }>('/bc/notifications', async (req, reply) => {
    if (req.query.validationToken !== undefined) {
      r.handshakes++;
      return reply.code(200).type('text/plain').send(r.echoToken ? req.query.validationToken : 'nope');
    }
    const status = r.replies.shift() ?? 202;
    if (status < 300) r.notifications.push(...notificationPayloadSchema.parse(req.body).value);
    return reply.code(status).send();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/bc/notifications`;
  return r;
}

describe('Business Central webhooks through the client', () => {
  let sandbox: BusinessCentralSandbox;
  let receiver: Receiver;
  let bc: ReturnType<typeof clientFor>;

  beforeEach(async () => {
    sandbox = await startSandbox({ notificationRetryDelaysMs: [30, 30, 30, 30, 30], collectionThreshold: 3 });
    receiver = await startReceiver();
    bc = clientFor(sandbox);
  });
  afterEach(async () => {
    await sandbox.close();
    await receiver.close();
  });

  it('creates a subscription after the handshake and delivers a posted invoice notification', async () => {
    const sub = await bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'salesInvoices', clientState: 'secret-state' });
    expect(receiver.handshakes).toBe(1);
    expect(Date.parse(sub.expirationDateTime) - Date.now()).toBeGreaterThan(3 * 24 * 3600 * 1000 - 60_000);
    expect((await bc.listSubscriptions()).map((s) => s.subscriptionId)).toEqual([sub.subscriptionId]);

    const invoice = sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'x', quantity: 1, unitPrice: '5' }] });
    const [n] = await receiver.waitFor(1);
    expect(n).toMatchObject({
      subscriptionId: sub.subscriptionId,
      clientState: 'secret-state',
      changeType: 'created',
      resource: `api/v2.0/companies(${sandbox.companyId})/salesInvoices(${invoice.id})`,
    });
    const id = /salesInvoices\(([^)]+)\)/.exec(n.resource)![1];
    expect((await bc.getSalesInvoice(id))!.status).toBe('Open');

    // a partial payment does not touch the invoice (no notification); full payment changes its status (one)
    sandbox.admin.recordPayment({ invoiceNumber: invoice.number, amount: '2' });
    sandbox.admin.recordPayment({ invoiceNumber: invoice.number, amount: '3' });
    const all = await receiver.waitFor(2);
    expect(all[1]).toMatchObject({ changeType: 'updated', resource: n.resource });
    await new Promise((res) => setTimeout(res, 100));
    expect(receiver.notifications).toHaveLength(2);
  });

  it('refuses a subscription when the receiver does not echo the validation token', async () => {
    receiver.echoToken = false;
    await expect(bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'salesInvoices', clientState: 's' })).rejects.toMatchObject({
      status: 400,
      retryable: false,
      code: 'Application_DialogException',
    });
    expect(await bc.listSubscriptions()).toEqual([]);
  });

  it('renews a subscription with a new handshake and a later expiry', async () => {
    const sub = await bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'customers', clientState: 's1' });
    await new Promise((res) => setTimeout(res, 20));
    const renewed = await bc.renewSubscription(sub.subscriptionId, { clientState: 's2' });
    expect(receiver.handshakes).toBe(2);
    expect(Date.parse(renewed.expirationDateTime)).toBeGreaterThan(Date.parse(sub.expirationDateTime));
    expect(renewed.clientState).toBe('s2');
    // a stale ETag is refused
    await expect(bc.renewSubscription(sub.subscriptionId, { etag: sub.etag })).rejects.toMatchObject({ status: 412, code: 'Request_EntityChanged', retryable: false });
    await bc.deleteSubscription(sub.subscriptionId);
    expect(await bc.getSubscription(sub.subscriptionId)).toBeNull();
  });

  it('retries a notification answered 503 and deletes the subscription after a 404', async () => {
    const sub = await bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'salesInvoices', clientState: 's' });
    receiver.replies = [503];
    sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'x', quantity: 1, unitPrice: '5' }] });
    await receiver.waitFor(1);
    expect(await bc.getSubscription(sub.subscriptionId)).not.toBeNull();

    receiver.replies = [404];
    sandbox.admin.postInvoice({ customerNumber: 'C20000', lines: [{ description: 'y', quantity: 1, unitPrice: '5' }] });
    const until = Date.now() + 3000;
    while ((await bc.getSubscription(sub.subscriptionId)) !== null && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    expect(await bc.getSubscription(sub.subscriptionId)).toBeNull();
    expect(receiver.notifications).toHaveLength(1);
  });

  it('deletes the subscription after five failed attempts', async () => {
    const sub = await bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'salesInvoices', clientState: 's' });
    receiver.replies = [500, 500, 500, 500, 500];
    sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'x', quantity: 1, unitPrice: '5' }] });
    const until = Date.now() + 3000;
    while ((await bc.getSubscription(sub.subscriptionId)) !== null && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    expect(await bc.getSubscription(sub.subscriptionId)).toBeNull();
    expect(receiver.replies).toEqual([]);
  });

  it('coalesces many changes in one window into a collection notification', async () => {
    await sandbox.close();
    sandbox = await startSandbox({ notificationDelayMs: 200, collectionThreshold: 3 });
    bc = clientFor(sandbox);
    await bc.createSubscription({ notificationUrl: receiver.url, entitySet: 'salesInvoices', clientState: 's' });
    const before = new Date().toISOString();
    for (let i = 0; i < 4; i++) sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: `n${i}`, quantity: 1, unitPrice: '1' }] });
    const [n] = await receiver.waitFor(1);
    await new Promise((res) => setTimeout(res, 100));
    expect(receiver.notifications).toHaveLength(1);
    expect(n.changeType).toBe('collection');
    const filter = /\?\$filter=lastModifiedDateTime%20gt%20(.+)$/.exec(n.resource);
    expect(filter).not.toBeNull();
    const changed = await bc.listSalesInvoices({ modifiedSince: decodeURIComponent(filter![1]) });
    expect(changed).toHaveLength(4);
    expect(Date.parse(filter![1])).toBeLessThanOrEqual(Date.parse(before) + 200);
  });
});

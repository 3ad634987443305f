import Fastify, { type FastifyInstance } from 'fastify';
import { IN_EVENT, parseInvoiceWebhook, parsePaymentWebhook } from '../../src/adapters/invoiceNinja';
import { type Harness, newClient, newInvoice, startHarness, until, usd } from './harness';

// Webhooks as Invoice Ninja sends them: one subscription per event, the bare record as body, custom headers
// verbatim, at most once, and a subscription archived when its target answers 404 or 410.

interface Received {
  path: string;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

const SECRET = { 'X-Arsync-Webhook-Secret': 'portal-webhook-secret-for-tests' };

describe('Invoice Ninja sandbox webhooks', () => {
  let h: Harness;
  let receiver: FastifyInstance;
  let target: string;
  const received: Received[] = [];
  const replyWith: Record<string, number> = { '/gone': 410, '/missing': 404, '/broken': 500 };

  beforeAll(async () => {
    h = await startHarness();
    receiver = Fastify();
    receiver.all('/*', async (req, reply) => {
      received.push({ path: req.url, method: req.method, headers: req.headers, body: req.body, at: Date.now() });
      return reply.code(replyWith[req.url] ?? 200).send({ ok: true });
    });
    target = await receiver.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await h.sandbox.close();
    await receiver.close();
  });
  beforeEach(() => {
    received.length = 0;
  });

  const at = (path: string) => received.filter((r) => r.path === path);

  it('delivers create, update and delete payment events with the secret header and the bare payment', async () => {
    for (const id of [IN_EVENT.CREATE_PAYMENT, IN_EVENT.UPDATE_PAYMENT, IN_EVENT.DELETE_PAYMENT]) {
      await h.client.createWebhook(id, `${target}/hooks/in/${id}`, SECRET);
    }
    const c = await newClient(h, 'W10000');
    const inv = await newInvoice(h, c.id, 'W-1', 8000);
    const p = await h.client.createPayment({
      clientId: c.id, currency: 'USD', amountMinor: 3000, date: '2030-04-01', idempotencyKey: 'erp-w1', transactionReference: 'ERP-W1',
      invoices: [{ invoiceId: inv.id, amountMinor: 3000 }],
    });

    const [created] = await until(() => at('/hooks/in/4'), (r) => r.length === 1);
    expect(created.method).toBe('POST');
    expect(created.headers['x-arsync-webhook-secret']).toBe(SECRET['X-Arsync-Webhook-Secret']);
    expect(created.headers['content-type']).toMatch(/application\/json/);
    expect(created.body.data).toBeUndefined(); // no envelope
    expect(created.body).toMatchObject({ id: p.id, status_id: '4', amount: 30, client: { id: c.id } });
    expect(created.body.invoices).toEqual([expect.objectContaining({ id: inv.id, balance: 50, status_id: '3' })]);

    const parsed = parsePaymentWebhook(created.body);
    expect(parsed.success).toBe(true);
    if (parsed.success) {
      expect(parsed.value).toMatchObject({ id: p.id, amount: usd(3000), status: 'completed', invoices: [{ invoiceId: inv.id, amount: usd(3000), refunded: usd(0) }] });
      expect(parsed.value.invoiceRecords?.[0]).toMatchObject({ number: 'W-1', balance: usd(5000) });
    }

    await h.client.refundPayment({ paymentId: p.id, currency: 'USD', date: '2030-04-02', invoices: [{ invoiceId: inv.id, amountMinor: 1000 }] });
    const [updated] = await until(() => at('/hooks/in/31'), (r) => r.length === 1);
    expect(updated.body).toMatchObject({ id: p.id, status_id: '5', refunded: 10 });

    await h.client.deletePayment(p.id);
    const [deleted] = await until(() => at('/hooks/in/12'), (r) => r.length === 1);
    expect(deleted.body).toMatchObject({ id: p.id, status_id: '2', is_deleted: true });
    // DeletePayment deletes the payment's paymentables: no invoices left on it; the invoice has its balance back.
    expect(deleted.body.invoices).toEqual([]);
    expect(deleted.body.paymentables).toEqual([]);
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ balance: usd(8000) });
  });

  it('fires update_invoice on mark_sent and cancel, but not when a payment is applied (saveQuietly)', async () => {
    await h.client.createWebhook(IN_EVENT.UPDATE_INVOICE, `${target}/hooks/in/8`, SECRET);
    const c = await newClient(h, 'W20000');
    const draft = await h.client.createInvoice({ clientId: c.id, currency: 'USD', number: 'W-2', lines: [{ quantity: 1, unitPriceMinor: 4000 }] });
    await h.client.bulkInvoices('mark_sent', [draft.id]);
    const [sent] = await until(() => at('/hooks/in/8'), (r) => r.length === 1);
    expect(sent.body).toMatchObject({ id: draft.id, status_id: '2', client: { id: c.id } });
    const invoice = parseInvoiceWebhook(sent.body);
    expect(invoice.success && invoice.value.invitations[0].payLink).toContain('/client/pay/');

    await h.client.createPayment({
      clientId: c.id, currency: 'USD', amountMinor: 1000, date: '2030-04-01', idempotencyKey: 'erp-w2', transactionReference: 'ERP-W2',
      invoices: [{ invoiceId: draft.id, amountMinor: 1000 }],
    });
    await h.client.bulkInvoices('cancel', [draft.id]);
    const events = await until(() => at('/hooks/in/8'), (r) => r.length === 2);
    expect(events[1].body).toMatchObject({ id: draft.id, status_id: '5' });
    await new Promise((r) => setTimeout(r, 100));
    expect(at('/hooks/in/8')).toHaveLength(2);
  });

  it('archives a subscription whose target answers 410 or 404, and delivers a 500 once without retrying', async () => {
    const c = await newClient(h, 'W30000');
    const gone = await h.client.createWebhook(IN_EVENT.CREATE_INVOICE, `${target}/gone`, SECRET);
    const missing = await h.client.createWebhook(IN_EVENT.CREATE_INVOICE, `${target}/missing`, SECRET);
    const broken = await h.client.createWebhook(IN_EVENT.CREATE_INVOICE, `${target}/broken`, SECRET);

    await newInvoice(h, c.id, 'W-3', 100);
    const probes = () => at('/gone').length + at('/missing').length + at('/broken').length;
    await until(probes, (n) => n === 3);
    await until(() => h.sandbox.admin.webhookDeliveries({ eventId: IN_EVENT.CREATE_INVOICE }), (d) => d.length === 3);
    const hooks = await h.client.listWebhooks();
    expect(hooks.find((w) => w.id === gone.id)).toMatchObject({ isArchived: true, eventId: 2 });
    expect(hooks.find((w) => w.id === missing.id)).toMatchObject({ isArchived: true });
    expect(hooks.find((w) => w.id === broken.id)).toMatchObject({ isArchived: false, headers: SECRET });
    const deliveries = h.sandbox.admin.webhookDeliveries({ webhookId: gone.id });
    expect(deliveries).toEqual([expect.objectContaining({ status: 410, archived_subscription: true })]);

    await newInvoice(h, c.id, 'W-4', 100);
    await until(() => at('/broken'), (r) => r.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(at('/gone')).toHaveLength(1);
    expect(at('/missing')).toHaveLength(1);

    // restoring brings the subscription back
    await h.client.restoreWebhooks([gone.id]);
    replyWith['/gone'] = 200;
    await newInvoice(h, c.id, 'W-5', 100);
    await until(() => at('/gone'), (r) => r.length === 2);

    await h.client.deleteWebhook(broken.id);
    await h.client.deleteWebhook(gone.id);
    await h.client.deleteWebhook(missing.id);
    expect((await h.client.listWebhooks()).filter((w) => !w.isDeleted && w.eventId === 2)).toEqual([]);
  });

  it('waits the configured delay before delivering', async () => {
    await h.client.createWebhook(IN_EVENT.CREATE_CLIENT, `${target}/hooks/in/1`, SECRET);
    h.sandbox.admin.setWebhookDelay(300);
    try {
      const started = Date.now();
      const created = await newClient(h, 'W40001');
      const [hook] = await until(() => at('/hooks/in/1'), (r) => r.length === 1);
      expect(hook.at - started).toBeGreaterThanOrEqual(290);
      expect(hook.body).toMatchObject({ id: created.id, number: 'W40001' });
      expect(hook.body.contacts).toHaveLength(1);
    } finally {
      h.sandbox.admin.setWebhookDelay(0);
    }
  });

  it('rejects a subscription without target_url or event_id and reports malformed bodies by field', async () => {
    const bad = await h.api('POST', '/api/v1/webhooks', { headers: SECRET });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['event_id', 'target_url']);

    const parsed = parsePaymentWebhook({ id: 'x', client_id: 'y', amount: 'ten', status_id: '4', is_deleted: false });
    expect(parsed).toEqual({ success: false, error: expect.stringContaining('amount') });
    expect(parsePaymentWebhook({ ...validPaymentShape(), status_id: '99' })).toEqual({ success: false, error: expect.stringMatching(/status_id/) });
  });
});

function validPaymentShape() {
  return { id: 'VolejRejNm', client_id: 'VolejRejNm', amount: 1, status_id: '4', is_deleted: false, currency_id: '1' };
}

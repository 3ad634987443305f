import { ExternalServiceError } from '../../src/adapters/http/errors';
import { createInvoiceNinjaClient, type InvoiceNinjaClient } from '../../src/adapters/invoiceNinja';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja';
import { freePort } from '../../src/stack/ports';
import { ADMIN, TOKEN, usd } from './harness';

// Failure injection through the sandbox's FaultInjector: transient failures are retried until the call completes,
// permanent ones surface at once as typed, non-retryable errors.

describe('Invoice Ninja client under injected faults', () => {
  let sandbox: InvoiceNinjaSandbox;
  let url: string;
  let client: InvoiceNinjaClient;
  let apiRequests = 0;
  let loseNextPaymentResponse = false;
  let clientId: string;
  let invoiceId: string;

  beforeAll(async () => {
    sandbox = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN], adminToken: ADMIN });
    sandbox.app.addHook('onResponse', async (req) => {
      if (req.url.startsWith('/api/v1/')) apiRequests++;
    });
    sandbox.app.addHook('onSend', async (req) => {
      if (loseNextPaymentResponse && req.method === 'POST' && req.url.startsWith('/api/v1/payments')) {
        loseNextPaymentResponse = false;
        sandbox.faults.configure({ failNext: 2 });
        await new Promise((r) => setTimeout(r, 600));
      }
    });
    url = await sandbox.listen(0);
    client = createInvoiceNinjaClient({
      baseUrl: url,
      apiToken: TOKEN,
      timeoutMs: 300,
      retry: { attempts: 6, initialDelayMs: 20, maxDelayMs: 150, maxRetryAfterMs: 1000 },
    });
    clientId = (await client.findOrCreateClient('F10000', { name: 'Faulty', currency: 'USD' })).id;
    invoiceId = (await client.createInvoice({ clientId, currency: 'USD', number: 'F-1', lines: [{ quantity: 1, unitPriceMinor: 5000 }] }, { markSent: true })).id;
  });
  afterEach(() => {
    sandbox.faults.configure({ errorRate: 0, timeoutRate: 0, throttleNext: 0, failNext: 0 });
  });
  afterAll(() => sandbox.close());

  it('retries 500s until the call goes through', async () => {
    sandbox.admin.configureFaults({ failNext: 3 });
    const before = apiRequests;
    const inv = await client.getInvoice(invoiceId);
    expect(inv.amount).toEqual(usd(5000));
    expect(apiRequests - before).toBe(4);
  });

  it('honours Retry-After on a 429 burst', async () => {
    sandbox.admin.configureFaults({ throttleNext: 2, retryAfterSeconds: 0.25 });
    const started = Date.now();
    const found = await client.findClientByNumber('F10000');
    expect(found?.id).toBe(clientId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('gives up a hanging request at the client timeout and retries', async () => {
    sandbox.admin.configureFaults({ timeoutRate: 1, timeoutMs: 800 });
    setTimeout(() => sandbox.faults.configure({ timeoutRate: 0 }), 450);
    const inv = await client.getInvoice(invoiceId);
    expect(inv.id).toBe(invoiceId);
  });

  it('completes a payment whose first answer was lost, without recording it twice', async () => {
    // The first POST is processed but its response arrives after the client's timeout; then two 500s.
    loseNextPaymentResponse = true;
    sandbox.admin.configureFaults({ failNext: 0 });
    const p = await client.createPayment({
      clientId, currency: 'USD', amountMinor: 1000, date: '2030-03-01', idempotencyKey: 'erp-f-1', transactionReference: 'ERP-F-1',
      invoices: [{ invoiceId, amountMinor: 1000 }],
    });
    expect(p.amount).toEqual(usd(1000));
    expect((await client.getInvoice(invoiceId)).balance).toEqual(usd(4000));
    const listed = await client.listPaymentsUpdatedSince(0);
    expect(listed.filter((x) => x.transactionReference === 'ERP-F-1')).toHaveLength(1);
  });

  it('surfaces a persistent outage as a retryable error once its attempts are spent', async () => {
    sandbox.admin.configureFaults({ errorRate: 1 });
    const before = apiRequests;
    const err = await client.getInvoice(invoiceId).catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 500, retryable: true, code: 'server_error', service: 'invoice-ninja' });
    expect(apiRequests - before).toBe(6);
  });

  it('does not retry permanent errors: a validation failure is sent once and typed', async () => {
    const before = apiRequests;
    const err = await client
      .createInvoice({ clientId: 'NotAClient1', currency: 'USD', number: 'F-2', lines: [{ quantity: 1, unitPriceMinor: 100 }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 422, retryable: false, code: 'validation_failed' });
    expect(err.message).toMatch(/client_id/);
    expect(apiRequests - before).toBe(1);
  });

  it('reports an unreachable portal as a retryable network error', async () => {
    const port = await freePort();
    const offline = createInvoiceNinjaClient({ baseUrl: `http://127.0.0.1:${port}`, apiToken: TOKEN, retry: { attempts: 2, initialDelayMs: 10 } });
    const err = await offline.getInvoice(invoiceId).catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ retryable: true, code: 'network' });
  });

  it('failNext with a method fails only that method\'s requests, and refuses a method not in capitals', async () => {
    sandbox.admin.configureFaults({ failNext: 1, failNextMethod: 'PUT' });
    try {
      expect((await client.getInvoice(invoiceId)).id).toBe(invoiceId);
      expect(sandbox.admin.configureFaults({}).failNext).toBe(1);
      const res = await fetch(`${url}/api/v1/invoices/${invoiceId}`, {
        method: 'PUT',
        headers: { 'X-API-TOKEN': TOKEN, 'X-Requested-With': 'XMLHttpRequest', 'Content-Type': 'application/json' },
        body: JSON.stringify({ po_number: 'PO-1' }),
      });
      expect(res.status).toBe(500);
      expect(sandbox.admin.configureFaults({}).failNext).toBe(0);
      const bad = await fetch(`${url}/admin/faults`, {
        method: 'PUT',
        headers: { 'x-sandbox-admin-token': ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ failNextMethod: 'put' }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain('failNextMethod');
    } finally {
      sandbox.admin.configureFaults({ failNext: 0, failNextMethod: '' });
    }
  });

  it('applies faults to the API only; admin routes need the admin token', async () => {
    sandbox.admin.configureFaults({ errorRate: 1 });
    const page = await fetch(`${url}/admin/outbox`, { headers: { 'x-sandbox-admin-token': ADMIN } });
    expect(page.status).toBe(200);
    const put = await fetch(`${url}/admin/faults`, {
      method: 'PUT',
      headers: { 'x-sandbox-admin-token': ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 0 }),
    });
    expect(await put.json()).toMatchObject({ errorRate: 0 });
    expect((await client.getInvoice(invoiceId)).id).toBe(invoiceId);
    const denied = await fetch(`${url}/admin/faults`, { headers: { 'x-sandbox-admin-token': 'nope' } });
    expect(denied.status).toBe(403);
  });
});

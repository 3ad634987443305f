import Fastify from 'fastify';
import { createInvoiceNinjaClient, IN_EVENT } from '../../src/adapters/invoiceNinja';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja';
import { TOKEN, until } from './harness';
import { checkRequest, checkResponse, checkSchema, DEVIATIONS, matchPath, operation, SPEC_SOURCE } from './openapi';
import { startRecordingProxy } from './recordingProxy';

// Every request the production client sends and every response the sandbox returns during a scenario that uses
// each client method is checked against Invoice Ninja's OpenAPI document (deviations where the document contradicts
// the server's code are listed in ./openapi.ts with their reasons). Recorded on the wire by a proxy between them.

const json = (buf: Buffer): unknown => {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return buf.toString('utf8');
  }
};

describe('Invoice Ninja client and sandbox against the OpenAPI document', () => {
  let sandbox: InvoiceNinjaSandbox;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  const webhookBodies: Array<{ path: string; body: unknown }> = [];

  beforeAll(async () => {
    sandbox = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN] });
    await sandbox.listen(0);
    proxy = await startRecordingProxy(sandbox.url);
  });
  afterAll(async () => {
    await proxy.close();
    await sandbox.close();
  });

  it('uses the document it was given', () => {
    expect(SPEC_SOURCE).toContain('v5-develop');
    expect(operation('POST', '/api/v1/payments')).toBeDefined();
    // The known contradictions, each with its reason, so a reader of the test output sees them.
    for (const d of DEVIATIONS) expect(d.why.length).toBeGreaterThan(20);
  });

  it('sends only documented requests and gets only documented responses through every client method', async () => {
    const receiver = Fastify();
    receiver.post('/*', async (req) => {
      webhookBodies.push({ path: req.url, body: req.body });
      return {};
    });
    const target = await receiver.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = createInvoiceNinjaClient({ baseUrl: proxy.url, apiToken: TOKEN, pageSize: 2 });

      const hook = await client.createWebhook(IN_EVENT.CREATE_PAYMENT, `${target}/in/4`, { 'X-Arsync-Webhook-Secret': 'secret-value-for-contract' });
      await client.createWebhook(IN_EVENT.UPDATE_INVOICE, `${target}/in/8`, { 'X-Arsync-Webhook-Secret': 'secret-value-for-contract' });
      await client.listWebhooks();

      const c = await client.findOrCreateClient('K10000', {
        name: 'Contract Co', currency: 'USD', countryCode: 'US', idNumber: 'ID-K1', address1: '1 Main St', city: 'Springfield',
        customValues: ['tier A'], settings: { payment_terms: 30 },
        contacts: [{ firstName: 'Kim', lastName: 'Lee', email: 'kim@contract.example', sendEmail: true, isPrimary: true }],
      });
      await client.updateClient(c.id, { currency: 'USD', contacts: [{ firstName: 'Kim', email: 'kim@contract.example', sendEmail: true }, { firstName: 'Lou', email: 'lou@contract.example' }] });
      await client.uploadClientDocument(c.id, { filename: 'agreement.pdf', content: Buffer.from('%PDF-1.4\n'), isPublic: true });
      const other = await client.findOrCreateClient('K20000', { name: 'Other', currency: 'EUR' });
      await client.bulkClients('archive', [other.id]);
      await client.findOrCreateClient('K20000', { name: 'Other', currency: 'EUR' }); // restores it

      const inv = await client.createInvoice(
        {
          clientId: c.id, currency: 'USD', number: 'K-1', date: '2030-06-01', dueDate: '2030-07-01', poNumber: 'PO-1',
          customValues: ['ERP-REF', undefined, 'x'], autoBillEnabled: false, partialMinor: 0,
          lines: [
            { productKey: 'ITEM', notes: 'Thing', quantity: 2, unitPriceMinor: 1999, discountPercent: 5, taxes: [{ name: 'VAT', rate: 20 }, { name: 'Levy', rate: 1.5 }] },
            { productKey: 'HOURS', notes: 'Work', quantity: '1.25', unitPrice: '80.125', typeId: '2' },
          ],
        },
        { markSent: true },
      );
      await client.updateInvoice(inv.id, { currency: 'USD', publicNotes: 'Thanks', lines: [{ productKey: 'ITEM', quantity: 3, unitPriceMinor: 1999, taxes: [{ name: 'VAT', rate: 20 }] }] });
      const draft = await client.createInvoice({ clientId: c.id, currency: 'USD', number: 'K-2', lines: [{ quantity: 1, unitPriceMinor: 500 }] });
      await client.bulkInvoices('mark_sent', [draft.id]);
      await client.getInvoice(inv.id);
      await client.findInvoiceByNumber('K-1');
      await client.listInvoicesUpdatedSince(0);

      const p = await client.createPayment({
        clientId: c.id, currency: 'USD', amountMinor: 2000, date: '2030-06-02', idempotencyKey: 'erp-k-1', transactionReference: 'ERP-K-1',
        invoices: [{ invoiceId: inv.id, amountMinor: 2000 }],
      });
      await client.getPayment(p.id);
      await client.getInvoiceWithPayments(inv.id);
      await client.listClientPayments(c.id, { createdSince: 1 });
      await client.refundPayment({ paymentId: p.id, currency: 'USD', date: '2030-06-03', invoices: [{ invoiceId: inv.id, amountMinor: 500 }] });
      await client.listPaymentsUpdatedSince(0);
      await client.deletePayment(p.id);
      // a portal payment, so its webhook body is checked too
      const payUrl = `${sandbox.url}/client/pay/${inv.invitations[0].key}/confirm`;
      const res = await fetch(payUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([['invoice', draft.id], [`amount_${draft.id}`, '5.00'], ['method', 'card'], ['fee_shown', '45'], ['agree_fee', '1'], ['card_number', '4242424242424242'], ['card_expiry', '01/31'], ['card_cvc', '123']]).toString(),
        redirect: 'manual',
      });
      expect(res.status).toBe(303);

      // error answers are part of the contract too
      await client.createInvoice({ clientId: c.id, currency: 'USD', number: 'K-1', lines: [{ quantity: 1, unitPriceMinor: 1 }] }).catch(() => undefined);
      await client.getPayment('NoSuchPay1').catch(() => undefined);
      await createInvoiceNinjaClient({ baseUrl: proxy.url, apiToken: 'wrong-token' }).listWebhooks().catch(() => undefined);

      await client.restoreWebhooks([hook.id]);
      await client.updateWebhook(hook.id, IN_EVENT.CREATE_PAYMENT, `${target}/in/4`, { 'X-Arsync-Webhook-Secret': 'rotated-secret-for-contract' });
      await client.deleteWebhook(hook.id);
      await until(() => webhookBodies.length, (n) => n >= 3);
    } finally {
      await receiver.close();
    }

    const problems: string[] = [];
    const coveredResponses = new Set<string>();
    const operations = new Set<string>();
    for (const x of proxy.exchanges) {
      const url = new URL(x.url, 'http://proxy');
      const specPath = matchPath(x.method, url.pathname);
      const label = `${x.method} ${x.url} → ${x.status}`;
      if (!specPath) {
        problems.push(`${label}: not an operation of the spec subset`);
        continue;
      }
      operations.add(`${x.method} ${specPath}`);
      const query = Object.fromEntries(url.searchParams);
      const contentType = String(x.headers['content-type'] ?? '');
      const body = contentType.startsWith('application/json') ? json(x.body) : undefined;
      const reqIssues = checkRequest(x.method, specPath, x.headers, query, body, contentType);
      const res = checkResponse(x.method, specPath, x.status, json(x.responseBody));
      if (res.covered) coveredResponses.add(`${x.method} ${specPath} ${x.status}`);
      if (!x.responseType.startsWith('application/json')) problems.push(`${label}: answered ${x.responseType}, not JSON`);
      for (const i of [...reqIssues, ...res.issues]) problems.push(`${label}: ${i}`);
    }
    expect(problems).toEqual([]);

    // The scenario really exercised every operation in the subset, and its error responses.
    expect([...operations].sort()).toEqual(
      [
        'GET /api/v1/clients', 'POST /api/v1/clients', 'GET /api/v1/clients/{id}', 'PUT /api/v1/clients/{id}', 'POST /api/v1/clients/bulk',
        'POST /api/v1/clients/{id}/upload', 'GET /api/v1/invoices', 'POST /api/v1/invoices', 'GET /api/v1/invoices/{id}',
        'PUT /api/v1/invoices/{id}', 'POST /api/v1/invoices/bulk', 'GET /api/v1/payments', 'POST /api/v1/payments',
        'GET /api/v1/payments/{id}', 'DELETE /api/v1/payments/{id}', 'POST /api/v1/payments/refund', 'GET /api/v1/webhooks',
        'POST /api/v1/webhooks', 'PUT /api/v1/webhooks/{id}', 'DELETE /api/v1/webhooks/{id}', 'POST /api/v1/webhooks/bulk',
      ].sort(),
    );
    for (const must of ['POST /api/v1/invoices 422', 'GET /api/v1/webhooks 403', 'GET /api/v1/payments 200', 'POST /api/v1/payments 200']) {
      expect([...coveredResponses]).toContain(must);
    }
  });

  it('sends what the contract requires beyond the spec: idempotency key and email_receipt on payments, currency_id on client updates', () => {
    const bodies = (method: string, re: RegExp) =>
      proxy.exchanges.filter((x) => x.method === method && re.test(new URL(x.url, 'http://p').pathname)).map((x) => json(x.body) as Record<string, any>);
    const payments = bodies('POST', /^\/api\/v1\/payments$/);
    expect(payments.length).toBeGreaterThan(0);
    for (const p of payments) {
      expect(p.idempotency_key).toMatch(/^.{1,64}$/);
      expect(p.email_receipt).toBe(false);
    }
    const clientUpdates = bodies('PUT', /^\/api\/v1\/clients\/[^/]+$/);
    expect(clientUpdates.length).toBeGreaterThan(0);
    for (const c of clientUpdates) expect(c.settings.currency_id).toBe('1');
    const created = proxy.exchanges.find((x) => x.method === 'POST' && x.url.startsWith('/api/v1/invoices?') && x.status === 200)!;
    expect(new URL(created.url, 'http://p').searchParams.get('mark_sent')).toBe('true');
  });

  it('uploads documents the way the contract says: multipart POST with _method=PUT and documents[] (the spec says _method=POST)', () => {
    const upload = proxy.exchanges.find((x) => x.method === 'POST' && /\/api\/v1\/clients\/[^/]+\/upload$/.test(x.url));
    expect(String(upload?.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    const raw = upload!.body.toString('latin1');
    expect(raw).toMatch(/name="_method"\r\n\r\nPUT\r\n/);
    expect(raw).toMatch(/name="documents\[\]"; filename="agreement.pdf"/);
    expect(raw).toMatch(/name="is_public"\r\n\r\ntrue\r\n/);
  });

  it('delivers webhook bodies that are documented records: a Payment (with invoices and client) and an Invoice', () => {
    const payments = webhookBodies.filter((w) => w.path === '/in/4');
    const invoices = webhookBodies.filter((w) => w.path === '/in/8');
    expect(payments.length).toBeGreaterThanOrEqual(2); // API payment and portal payment
    expect(invoices.length).toBeGreaterThanOrEqual(1);
    for (const w of payments) {
      expect(checkSchema('Payment', w.body)).toEqual([]);
      expect(checkSchema('Client', (w.body as { client: unknown }).client)).toEqual([]);
    }
    for (const w of invoices) expect(checkSchema('Invoice', w.body)).toEqual([]);
  });

  it('catches a response that breaks the document (the checker is not vacuous)', () => {
    expect(checkResponse('GET', '/api/v1/invoices/{id}', 200, { data: { id: 'x', amount: '12.00', status_id: 2 } }).issues).not.toEqual([]);
    expect(checkRequest('POST', '/api/v1/payments', { 'x-api-token': 't', 'x-requested-with': 'XMLHttpRequest' }, {}, { client_id: 5 }, 'application/json')).not.toEqual([]);
    expect(checkRequest('GET', '/api/v1/clients', {}, { bogus: '1' }, undefined, '')).toEqual([
      'missing required header X-API-TOKEN',
      'missing required header X-Requested-With',
      'X-Requested-With is not XMLHttpRequest',
      'query parameter bogus is not documented',
    ]);
  });
});

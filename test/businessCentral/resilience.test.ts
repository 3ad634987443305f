import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { classified } from '../../activities/failures';
import { createBusinessCentralClient } from '../../src/adapters/businessCentral';
import { ExternalServiceError, ResponseShapeError } from '../../src/adapters/http/errors';
import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { createBusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { CREDENTIALS, clientConfig, clientFor, startSandbox, tempDataFile, usd } from './harness';

describe('Business Central client: faults, auth and persistence', () => {
  let sandbox: BusinessCentralSandbox;

  beforeEach(async () => {
    sandbox = await startSandbox();
  });
  afterEach(async () => {
    await sandbox.close();
  });

  it('retries injected 500s and completes', async () => {
    const bc = clientFor(sandbox);
    sandbox.faults.configure({ failNext: 3 });
    const customers = await bc.listCustomers();
    expect(customers).toHaveLength(4);
    expect(sandbox.faults.settings.failNext).toBe(0);
  });

  it('retries a request that times out', async () => {
    const bc = clientFor(sandbox, { timeoutMs: 300 });
    await bc.localCurrency(); // token and company information first, so only the next call hangs
    sandbox.faults.configure({ timeoutRate: 1, timeoutMs: 600 });
    setTimeout(() => sandbox.faults.configure({ timeoutRate: 0 }), 150);
    const started = Date.now();
    const invoice = await bc.getSalesInvoiceByNumber('does-not-exist');
    expect(invoice).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('waits as long as Retry-After says on 429, then completes', async () => {
    const bc = clientFor(sandbox);
    await bc.localCurrency();
    sandbox.faults.configure({ throttleNext: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    expect(await bc.listPaymentMethods()).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its attempts with a retryable error for Temporal to retry', async () => {
    const bc = clientFor(sandbox, { retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 } });
    sandbox.faults.configure({ failNext: 5 });
    const err = await bc.listPaymentMethods().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 500, code: 'Internal_ServerError', retryable: true });
  });

  it('hands Temporal the Retry-After it could not wait out itself, as the next attempt\'s delay', async () => {
    const bc = clientFor(sandbox, { retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 } });
    await bc.localCurrency();
    sandbox.faults.configure({ throttleNext: 2, retryAfterSeconds: 7 });
    const throttled = await classified(() => bc.listPaymentMethods()).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ApplicationFailure);
    expect(throttled).toMatchObject({ type: 'business-central:Application_TooManyRequests', nonRetryable: false, nextRetryDelay: 7000 });
    // A transient failure with no Retry-After is left as it is, for the retry policy's backoff.
    sandbox.faults.configure({ failNext: 2 });
    const failed = await classified(() => bc.listPaymentMethods()).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ExternalServiceError);
    expect(failed).toMatchObject({ status: 500, retryable: true });
  });

  it('surfaces a permanent BC error as a typed non-retryable error naming the BC code', async () => {
    const bc = clientFor(sandbox);
    const batch = (await bc.findJournalBatch('ARSYNC'))!;
    const err = await bc
      .createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-100), externalDocumentNumber: 'x', appliesToInvoiceNumber: 'NO-SUCH-INVOICE' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 400, code: 'BadRequest', retryable: false });
    expect((err as Error).message).toContain('appliesToInvoiceNumber');
    // a stale ETag on PATCH
    const line = await bc.createCustomerPayment(batch.id, { customerNumber: 'C10000', amount: usd(-100), externalDocumentNumber: 'etag' });
    await bc.updateCustomerPayment(line, { description: 'first edit' });
    await expect(bc.updateCustomerPayment(line, { description: 'second edit' })).rejects.toMatchObject({ status: 412, code: 'Request_EntityChanged', retryable: false });
    await bc.deleteCustomerPayment(line.id);
  });

  it('fetches a new token once when the API answers 401', async () => {
    const bc = clientFor(sandbox);
    await bc.listPaymentMethods();
    sandbox.admin.revokeTokens();
    expect(await bc.listPaymentMethods()).toHaveLength(3);
  });

  it('refreshes a token before it expires', async () => {
    await sandbox.close();
    sandbox = await startSandbox({ tokenTtlSeconds: 1 });
    const bc = clientFor(sandbox);
    await bc.listPaymentMethods();
    await new Promise((res) => setTimeout(res, 1100));
    expect(await bc.listPaymentMethods()).toHaveLength(3);
  });

  it('rejects wrong credentials permanently with the Entra error code', async () => {
    const bc = createBusinessCentralClient(clientConfig(sandbox, { clientSecret: 'wrong' }));
    await expect(bc.listPaymentMethods()).rejects.toMatchObject({ status: 401, code: 'invalid_client', retryable: false });
  });

  it('fails with a ResponseShapeError naming the field when a response has the wrong shape', async () => {
    await sandbox.close();
    sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS });
    // a server that answers one field with the wrong type
    sandbox.app.addHook('onSend', async (req, _reply, payload) =>
      req.url.includes('/paymentMethods') && typeof payload === 'string' ? payload.replace(/"code":"CARD"/, '"code":42') : payload,
    );
    await sandbox.listen(0);
    const bc = clientFor(sandbox);
    const err = await bc.listPaymentMethods().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseShapeError);
    expect((err as Error).message).toContain('value.0.code');
  });

  it('posts a cash receipt once when a line was created but the answer was lost and the create retried', async () => {
    await sandbox.close();
    sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS });
    let delayed = 0;
    // the first customerPayments create is slower than the client's timeout: the line exists, the client retries
    sandbox.app.addHook('onSend', async (req, _reply, payload) => {
      if (req.method === 'POST' && req.url.endsWith('/customerPayments') && delayed++ === 0) await new Promise((res) => setTimeout(res, 700));
      return payload;
    });
    await sandbox.listen(0);
    const invoice = sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'x', quantity: 1, unitPrice: '90.00' }] });
    const bc = clientFor(sandbox, { timeoutMs: 300 });
    const result = await bc.postCashReceipt({
      journalCode: 'ARSYNC',
      externalDocumentNumber: 'lost_answer',
      lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(4000), invoiceNumber: invoice.number }],
    });
    expect(delayed).toBeGreaterThanOrEqual(2);
    expect(result.entries.map((e) => e.amount)).toEqual([usd(-4000)]);
    expect(result.invoiceRemaining[invoice.number]).toEqual(usd(5000));
  });

  it('rejects a configuration without a company id, naming the field', () => {
    expect(() => createBusinessCentralClient({ ...clientConfig(sandbox), companyId: 'nope' })).toThrow(/companyId must be a company GUID/);
    // 36 characters of the right kinds are not a GUID either: the same check as BC_COMPANY_ID's.
    expect(() => createBusinessCentralClient({ ...clientConfig(sandbox), companyId: '-'.repeat(36) })).toThrow(/companyId must be a company GUID/);
  });
});

describe('Business Central sandbox persistence', () => {
  it('keeps invoices and payments across a restart with the same data file', async () => {
    const dataFile = tempDataFile();
    let sandbox = await startSandbox({ dataFile });
    let bc = clientFor(sandbox);
    const posted = sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Kept', quantity: 2, unitPrice: '12.50', taxPercent: '8' }] });
    await bc.postCashReceipt({ journalCode: 'ARSYNC', externalDocumentNumber: 'persist_1', lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(1000), invoiceNumber: posted.number }] });
    const before = await bc.getSalesInvoiceByNumber(posted.number);
    await sandbox.close();

    sandbox = await startSandbox({ dataFile });
    try {
      bc = clientFor(sandbox);
      const after = await bc.getSalesInvoiceByNumber(posted.number);
      expect(after).toEqual(before);
      expect(after).toMatchObject({ totalIncludingTax: usd(2700), remaining: usd(1700), status: 'Open' });
      expect((await bc.postCashReceipt({ journalCode: 'ARSYNC', externalDocumentNumber: 'persist_1', lines: [{ kind: 'applied', customerNumber: 'C10000', amount: usd(1000), invoiceNumber: posted.number }] })).status).toBe(
        'already_posted',
      );
      // numbering continues rather than restarting
      const next = sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Next', quantity: 1, unitPrice: '1' }] });
      expect(next.number).not.toBe(posted.number);
    } finally {
      await sandbox.close();
    }
  });
});

describe('Business Central sandbox: state saved by an earlier version', () => {
  it('reads unit prices kept in minor units as decimals', async () => {
    const dataFile = tempDataFile();
    let sandbox = await startSandbox({ dataFile });
    const posted = sandbox.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Old', quantity: 3, unitPrice: '12.50', taxPercent: '0' }] });
    await sandbox.close();
    // Rewrite the file as the earlier version stored it: `unitPriceMinor` instead of `unitPrice`.
    const saved = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as { salesInvoices: Array<{ number: string; lines: Array<Record<string, unknown>> }> };
    const line = saved.salesInvoices.find((i) => i.number === posted.number)!.lines[0]!;
    delete line.unitPrice;
    line.unitPriceMinor = 1250;
    fs.writeFileSync(dataFile, JSON.stringify(saved));
    sandbox = await startSandbox({ dataFile });
    try {
      const read = await clientFor(sandbox).getSalesInvoiceByNumber(posted.number, { lines: true });
      expect(read!.lines!.map((l) => [l.quantity, l.unitPrice, l.netAmount.minor])).toEqual([[3, { units: 125, scale: 1 }, 3750]]);
    } finally {
      await sandbox.close();
    }
  });
});

describe('Business Central client: identical reads in flight', () => {
  let sandbox: BusinessCentralSandbox;
  const customerReads: string[] = [];

  beforeEach(async () => {
    customerReads.length = 0;
    sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS, notificationDelayMs: 0 });
    sandbox.app.addHook('onRequest', async (req) => {
      if (req.url.includes('/customers')) customerReads.push(decodeURIComponent(req.url));
    });
    await sandbox.listen(0);
  });
  afterEach(async () => {
    await sandbox.close();
  });

  it('shares one customer read among callers that ask while it is in flight, and reads again once it has settled', async () => {
    const bc = clientFor(sandbox);
    await bc.localCurrency(); // token and company first
    const [a, b, c, other] = await Promise.all([
      bc.getCustomerByNumber('C10000', { details: false }),
      bc.getCustomerByNumber('C10000', { details: false }),
      bc.getCustomerByNumber('C10000', { details: false }),
      bc.getCustomerByNumber('C20000', { details: false }),
    ]);
    expect(customerReads.filter((u) => u.includes("'C10000'"))).toHaveLength(1);
    expect(customerReads.filter((u) => u.includes("'C20000'"))).toHaveLength(1);
    expect([a, b, c].map((x) => x!.number)).toEqual(['C10000', 'C10000', 'C10000']);
    expect(other!.number).toBe('C20000');
    // Each caller has its own copy: one changing its answer changes nobody else's.
    a!.email = 'changed@example.com';
    expect(b!.email).not.toBe('changed@example.com');

    // Nothing is kept: the next read is a request of its own and sees the change made meanwhile.
    sandbox.admin.updateCustomer('C10000', { email: 'new-ap@example.com' });
    expect((await bc.getCustomerByNumber('C10000', { details: false }))!.email).toBe('new-ap@example.com');
    expect(customerReads.filter((u) => u.includes("'C10000'"))).toHaveLength(2);
  });

  it('gives every caller the shared read’s failure, and does not keep it', async () => {
    const bc = clientFor(sandbox, { retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10, maxRetryAfterMs: 10 } });
    await bc.localCurrency();
    // One injected 500: two callers both fail only if they shared the one request.
    sandbox.faults.configure({ failNext: 1 });
    const results = await Promise.allSettled([bc.getCustomerByNumber('C10000', { details: false }), bc.getCustomerByNumber('C10000', { details: false })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(sandbox.faults.settings.failNext).toBe(0);
    expect((await bc.getCustomerByNumber('C10000', { details: false }))!.number).toBe('C10000');
  });
});

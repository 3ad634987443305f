import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load';
import { createApiServer } from '../../src/http/server';
import { createLogger } from '../../src/observability/logger';
import { InvoiceNumber, PortalPaymentId } from '../../src/temporal/searchAttributes';
import { observePayment } from '../../src/temporal/starters';
import { invoiceWorkflowId, paymentWorkflowId } from '../../workflows/ids';
import { connectTemporal, uniqueTaskQueue, type TestTemporal } from '../support/temporal';

// The operator/finance API over real HTTP and the real Temporal dev server. No worker polls this file's task queue, so started
// workflows stay at their first task: enough to see starts, visibility, ids and the timeout path.

const TOKEN = `op-token-${randomUUID()}`;
const WRONG = `wrong-token-${randomUUID()}`;
const companyId = randomUUID();
const taskQueue = uniqueTaskQueue('api');
const logLines: string[] = [];

let t: TestTemporal;
let app: FastifyInstance;
let base: string;

interface Res {
  statusCode: number;
  headers: Headers;
  json(): any;
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function send(method: 'GET' | 'POST', url: string, body: string | undefined, headers: Record<string, string>): Promise<Res> {
  const res = await fetch(base + url, { method, body, headers });
  const text = await res.text();
  return { statusCode: res.status, headers: res.headers, json: () => JSON.parse(text) };
}

/** JSON request; `payload` undefined sends no body. */
const inject = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = auth) =>
  send(method, url, payload === undefined ? undefined : JSON.stringify(payload), payload === undefined ? headers : { ...headers, 'content-type': 'application/json' });

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  t = await connectTemporal();
  const config = loadConfig({ ...process.env, API_TOKEN: TOKEN, TEMPORAL_TASK_QUEUE: taskQueue, BC_COMPANY_ID: companyId });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('api-test', 'debug', sink);
  app = await createApiServer({ config, temporal: t.client, logger, operatorCallTimeoutMs: 1500 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  if (t) {
    const running = t.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` });
    for await (const wf of running) await t.client.workflow.getHandle(wf.workflowId).terminate('test finished');
    await t.close();
  }
});

describe('authentication', () => {
  it('answers 401 without a token, with a wrong one and with another scheme, and never logs a token', async () => {
    const cases: Array<Record<string, string>> = [{}, { authorization: `Bearer ${WRONG}` }, { authorization: `Basic ${TOKEN}` }, { authorization: 'Bearer' }];
    for (const headers of cases) {
      const res = await inject('GET', '/api/v1/invoices', undefined, headers);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    // A protected POST is refused before its body is even read.
    expect((await inject('POST', '/api/v1/invoices', { numbers: ['X1'] }, { authorization: `Bearer ${WRONG}` })).statusCode).toBe(401);

    const ok = await inject('GET', '/api/v1/invoices');
    expect(ok.statusCode).toBe(200);

    const logs = logLines.join('');
    expect(logs).toContain('authentication failed');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(WRONG);
  });

  it('leaves /health open', async () => {
    expect((await send('GET', '/health', undefined, {})).statusCode).toBe(200);
  });
});

describe('request validation', () => {
  const bad: Array<[string, 'GET' | 'POST', string, unknown, string]> = [
    ['empty numbers', 'POST', '/api/v1/invoices', { numbers: [] }, 'numbers'],
    ['a malformed invoice number', 'POST', '/api/v1/invoices', { numbers: ['103001', 'bad number!'] }, 'numbers.1'],
    ['more than 500 numbers', 'POST', '/api/v1/invoices', { numbers: Array.from({ length: 501 }, (_, i) => `N${i}`) }, 'numbers'],
    ['an unknown field', 'POST', '/api/v1/invoices', { numbers: ['1'], number: '2' }, 'number'],
    ['no body at all', 'POST', '/api/v1/invoices', undefined, '(body)'],
    ['a bad channel', 'POST', '/api/v1/invoices/103001/send-link', { channels: ['email', 'fax'], by: 'ana' }, 'channels.1'],
    ['send-link without by', 'POST', '/api/v1/invoices/103001/send-link', { channels: ['sms'] }, 'by'],
    ['cancel without why', 'POST', '/api/v1/invoices/103001/cancel', { by: 'ana' }, 'why'],
    ['a blank by', 'POST', '/api/v1/invoices/103001/reset', { by: '   ', why: 'resync' }, 'by'],
    ['resolve without by', 'POST', '/api/v1/payments/default/pay1/resolve', { action: 'skip', why: 'duplicate' }, 'by'],
    ['an unknown action', 'POST', '/api/v1/payments/default/pay1/resolve', { action: 'refund_it', by: 'ana', why: 'x' }, 'action'],
    ['apply_to_invoice without an invoice', 'POST', '/api/v1/payments/default/pay1/resolve', { action: 'apply_to_invoice', by: 'ana', why: 'x' }, 'invoiceNumber'],
    ['opt-in with a non-boolean', 'POST', '/api/v1/customers/opt-in', { numbers: ['10000'], optedIn: 'yes', by: 'ana' }, 'optedIn'],
    ['retry without why', 'POST', '/api/v1/payments/default/pay1/retry', { by: 'ana' }, 'why'],
    ['an unknown stage', 'GET', '/api/v1/invoices?stage=lost', undefined, 'stage'],
    ['attention that is not a boolean', 'GET', '/api/v1/payments?attention=maybe', undefined, 'attention'],
    ['an unknown query parameter', 'GET', '/api/v1/payments?stag=posted', undefined, 'stag'],
    ['a malformed payment id', 'GET', '/api/v1/payments/default/pay%20one', undefined, 'paymentId'],
  ];

  it.each(bad)('answers 400 naming the field for %s', async (_name, method, url, payload, field) => {
    const res = await inject(method, url, payload);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('invalid_request');
    expect(body.issues.map((i: { field: string }) => i.field)).toContain(field);
    for (const issue of body.issues) expect(issue.message).toEqual(expect.any(String));
  });

  it('names the refused value of a field with a fixed set of values', async () => {
    const res = await inject('GET', '/api/v1/invoices?stage=lost');
    expect(res.statusCode).toBe(400);
    expect(res.json().issues).toEqual([{ field: 'stage', message: expect.stringMatching(/expected one of .*"link_sent".*, got "lost"$/) }]);
  });

  it('answers 400 for malformed JSON and 413 for a body over 64 KiB', async () => {
    const malformed = await send('POST', '/api/v1/invoices', '{"numbers": [', { ...auth, 'content-type': 'application/json' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe('invalid_request');

    const huge = await inject('POST', '/api/v1/invoices', { numbers: ['1'], padding: 'x'.repeat(70 * 1024) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toBe('payload_too_large');
  });
});

describe('unknown ids', () => {
  it('answers 404 for an unknown invoice, customer, payment and connection', async () => {
    const invoice = await inject('GET', '/api/v1/invoices/NO-SUCH-INV');
    expect(invoice.statusCode).toBe(404);
    expect(invoice.json()).toEqual({ error: 'not_found', message: expect.stringContaining('NO-SUCH-INV') });

    expect((await inject('GET', '/api/v1/invoices/NO-SUCH-INV/timeline')).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/invoices/NO-SUCH-INV/cancel', { by: 'ana', why: 'credited' })).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/invoices/NO-SUCH-INV/reset', { by: 'ana', why: 'resync' })).statusCode).toBe(404);
    expect((await inject('GET', '/api/v1/customers/NO-SUCH-CUST')).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/customers/NO-SUCH-CUST/reset', { by: 'ana', why: 'resync' })).statusCode).toBe(404);

    const payment = await inject('GET', '/api/v1/payments/default/nosuchpayment');
    expect(payment.statusCode).toBe(404);
    expect(payment.json().message).toContain('nosuchpayment');
    expect((await inject('POST', '/api/v1/payments/default/nosuchpayment/resolve', { action: 'skip', by: 'ana', why: 'x' })).statusCode).toBe(404);
    // Retrying a payment arsync never staged does not create a workflow for it.
    expect((await inject('POST', '/api/v1/payments/default/nosuchpayment/retry', { by: 'ana', why: 'x' })).statusCode).toBe(404);
    await expect(t.client.workflow.getHandle('payment:default:nosuchpayment').describe()).rejects.toThrow(/not found/);

    const connection = await inject('GET', '/api/v1/payments/elsewhere/pay1');
    expect(connection.statusCode).toBe(404);
    expect(connection.json().message).toContain('elsewhere');
  });
});

describe('starting invoices', () => {
  const numbers = ['T-100', 'T-101', 'T-102'];

  it('starts one workflow per invoice with its search attributes, and a second post starts no new run', async () => {
    const first = await inject('POST', '/api/v1/invoices', { numbers: [...numbers, 'T-100'] });
    expect(first.statusCode).toBe(202);
    const started = first.json().invoices;
    expect(started.map((r: { invoiceNumber: string }) => r.invoiceNumber)).toEqual(numbers);

    const runs = new Map<string, string>();
    for (const n of numbers) {
      const d = await t.client.workflow.getHandle(invoiceWorkflowId(companyId, n)).describe();
      expect(d.type).toBe('invoiceLifecycle');
      expect(d.taskQueue).toBe(taskQueue);
      expect(d.status.name).toBe('RUNNING');
      expect(d.typedSearchAttributes.get(InvoiceNumber)).toBe(n);
      runs.set(n, d.runId);
    }

    const second = await inject('POST', '/api/v1/invoices', { numbers });
    expect(second.statusCode).toBe(202);
    for (const n of numbers) {
      const d = await t.client.workflow.getHandle(invoiceWorkflowId(companyId, n)).describe();
      expect(d.runId).toBe(runs.get(n));
    }
    const history = await t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(companyId, 'T-100')}'` });
    let count = 0;
    for await (const _ of history) count++;
    expect(count).toBe(1);
  });

  it('lists the started invoices by visibility, filtered by stage', async () => {
    const listed = await eventually(
      async () => (await inject('GET', '/api/v1/invoices?stage=syncing')).json().invoices as Array<{ invoiceNumber: string; stage: string; status: string }>,
      (rows) => rows.length >= numbers.length,
    );
    expect(listed.map((r) => r.invoiceNumber).sort()).toEqual(numbers);
    for (const row of listed) expect(row).toMatchObject({ stage: 'syncing', status: 'RUNNING' });

    // Another stage, another company's invoices: none of ours.
    expect((await inject('GET', '/api/v1/invoices?stage=posted')).json().invoices).toEqual([]);
    const attention = await inject('GET', '/api/v1/attention');
    expect(attention.statusCode).toBe(200);
    expect(attention.json().invoices).toEqual([]);
    expect(Array.isArray(attention.json().payments)).toBe(true);
  });

  it('answers 504 when the workflow cannot answer in time (no worker)', async () => {
    const started = Date.now();
    const res = await inject('POST', '/api/v1/invoices/T-101/send-link', { channels: ['email'], by: 'ana' });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toEqual({ error: 'timeout', message: expect.stringContaining('T-101') });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('staged payments', () => {
  const paymentId = `pay${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    // The poller's and the webhook's way in: signal-with-start of the payment's workflow.
    await observePayment({ client: t.client, taskQueue }, companyId, 'default', paymentId, { source: 'poll', updatedAt: 1_700_000_000 });
  });

  it('lists a staged payment in the staging list', async () => {
    const rows = await eventually(
      async () => (await inject('GET', '/api/v1/payments?stage=staged')).json().payments as Array<{ paymentId: string; stage: string }>,
      (r) => r.some((p) => p.paymentId === paymentId),
    );
    expect(rows.find((p) => p.paymentId === paymentId)).toMatchObject({ stage: 'staged', workflowId: paymentWorkflowId('default', paymentId) });
  });

  it('retries a staged payment, recording who asked and why in the workflow history', async () => {
    const res = await inject('POST', `/api/v1/payments/default/${paymentId}/retry`, { by: 'ana', why: 'portal was down' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ workflowId: paymentWorkflowId('default', paymentId) });

    const handle = t.client.workflow.getHandle(paymentWorkflowId('default', paymentId));
    expect((await handle.describe()).typedSearchAttributes.get(PortalPaymentId)).toBe(paymentId);
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'paymentObserved');
    expect(signals).toHaveLength(2);
    const payload = signals[1].workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(payload as Uint8Array).toString('utf8'))).toMatchObject({ source: 'manual', event: 'manual retry by ana: portal was down' });
  });
});

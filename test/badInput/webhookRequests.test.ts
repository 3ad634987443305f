import axios from 'axios';
import { WorkflowNotFoundError } from '@temporalio/client';
import { onDeploymentQueues } from '../../src/temporal/taskQueues';
import { invoiceWorkflowId, paymentWorkflowId } from '../../workflows/ids';
import { PORTAL_WEBHOOK_SECRET_HEADER } from '../../src/http/routes/portalWebhook';
import { BC_WEBHOOK_PATH } from '../../activities/subscriptions';
import { eventually, startStack, useStack, type TestStack } from '../support/stack';
import { postFreshInvoice } from './freshInvoice';

// Malformed and unauthenticated webhook requests to both receivers, over real HTTP: each answers its 4xx with a reason
// the sender (or an operator reading the sender's log) can act on, and none of them starts or signals a workflow.
// Well-formed repeats of a real notification start the invoice's workflow once.

let s: TestStack;

useStack(() => startStack(), (stack) => (s = stack));

const http = () => axios.create({ baseURL: s.apiUrl, validateStatus: () => true });
const portalHook = (event = 'create_payment', connection = 'default') => `/webhooks/invoice-ninja/${connection}/${event}`;
const secret = () => ({ [PORTAL_WEBHOOK_SECRET_HEADER]: s.config.env.PORTAL_WEBHOOK_SECRET });

/** Every workflow this stack's task queue has seen (visibility), so "nothing started" can be checked after each refusal. */
async function workflowsOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of s.t.client.workflow.list({ query: onDeploymentQueues(s.config.env.TEMPORAL_TASK_QUEUE) })) ids.push(wf.workflowId);
  return ids.sort();
}

/**
 * Strongly consistent (unlike visibility): this stack never started the workflow. Other test files' stacks share the
 * Temporal server and the sandboxes' numbering, so a workflow of the same id may exist on another task queue.
 */
async function neverStarted(workflowId: string): Promise<void> {
  try {
    const d = await s.t.client.workflow.getHandle(workflowId).describe();
    expect(d.taskQueue).not.toBe(s.config.env.TEMPORAL_TASK_QUEUE);
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowNotFoundError);
  }
}

/** Sends the bytes as they are (an HTTP client would re-encode a string that is not JSON). */
async function postRaw(path: string, text: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
  return { status: res.status, data: (await res.json()) as Record<string, unknown> };
}

function notification(resourceId: string, clientState: string, changeType = 'created') {
  return {
    value: [
      {
        subscriptionId: 'c0ffee00-0000-4000-8000-000000000001',
        clientState,
        expirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
        resource: `api/v2.0/companies(${s.bc.companyId})/salesInvoices(${resourceId})`,
        changeType,
        lastModifiedDateTime: new Date().toISOString(),
      },
    ],
  };
}

/** A real payment body as the portal sends it (its payment transformer with invoices and client). */
async function paymentBody() {
  const client = await s.deps.portals.client('default').findOrCreateClient('C10000', { name: 'Adatum', currency: 'USD' });
  const p = await s.deps.portals.client('default').createPayment({
    clientId: client.id,
    amountMinor: 1234,
    currency: 'USD',
    invoices: [],
    idempotencyKey: `body-${Date.now()}`,
    date: new Date().toISOString().slice(0, 10),
    transactionReference: `body-${Date.now()}`,
  });
  return (await axios.get(`${s.portal.url}/api/v1/payments/${p.id}`, { params: { include: 'invoices,client' }, headers: { 'X-API-TOKEN': 'arsync-demo-token' } })).data.data as Record<string, unknown>;
}

describe('Invoice Ninja webhook receiver', () => {
  it('refuses a missing or wrong secret with 401 and starts nothing', async () => {
    const before = await workflowsOnQueue();
    const body = await paymentBody();
    const missing = await http().post(portalHook(), body);
    expect(missing.status).toBe(401);
    expect(missing.data).toEqual({ error: 'invalid_secret' });
    const wrong = await http().post(portalHook(), body, { headers: { [PORTAL_WEBHOOK_SECRET_HEADER]: `${s.config.env.PORTAL_WEBHOOK_SECRET}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: 'invalid_secret' });
    await neverStarted(paymentWorkflowId('default', String(body.id)));
    expect(await workflowsOnQueue()).toEqual(before);
  });

  it('answers malformed JSON with 400 and the parser reason', async () => {
    const res = await postRaw(portalHook(), '{"id": "abc", "amount": ', secret());
    expect(res.status).toBe(400);
    expect(res.data).toEqual(expect.objectContaining({ error: 'invalid_request', message: expect.stringMatching(/JSON/i) }));
  });

  it('answers a body without the payment fields with 422 naming them', async () => {
    const before = await workflowsOnQueue();
    const res = await http().post(portalHook(), { amount: 10 }, { headers: secret() });
    expect(res.status).toBe(422);
    expect(res.data.error).toBe('invalid_payment');
    expect(res.data.message).toMatch(/\bid\b/);
    const { id: _id, ...withoutId } = await paymentBody();
    const noId = await http().post(portalHook(), withoutId, { headers: secret() });
    expect(noId.status).toBe(422);
    expect(noId.data.message).toMatch(/\bid\b/);
    expect(await workflowsOnQueue()).toEqual(before);
  });

  it('answers a body over the size limit with 413', async () => {
    const body = { ...(await paymentBody()), private_notes: 'x'.repeat(300 * 1024) };
    const res = await http().post(portalHook(), body, { headers: secret() });
    expect(res.status).toBe(413);
    expect(res.data.error).toBe('payload_too_large');
  });

  it('answers an unknown event with 400 and an unknown connection with 404, each naming what is unknown', async () => {
    const before = await workflowsOnQueue();
    const body = await paymentBody();
    const event = await http().post(portalHook('create_invoice'), body, { headers: secret() });
    expect(event.status).toBe(400);
    expect(event.data.issues).toEqual([expect.objectContaining({ field: 'event' })]);
    const connection = await http().post(portalHook('create_payment', 'nowhere'), body, { headers: secret() });
    expect(connection.status).toBe(404);
    expect(connection.data).toEqual({ error: 'unknown_connection', connection: 'nowhere' });
    await neverStarted(paymentWorkflowId('default', String(body.id)));
    await neverStarted(paymentWorkflowId('nowhere', String(body.id)));
    expect(await workflowsOnQueue()).toEqual(before);
  });
});

describe('Business Central webhook receiver', () => {
  it('answers the validation handshake by POST and by GET with the token as plain text, and a GET without one with 400', async () => {
    // As Business Central calls it: no body.
    for (const method of ['POST', 'GET']) {
      const res = await fetch(`${s.apiUrl}${BC_WEBHOOK_PATH}?validationToken=hand-shake-1`, { method });
      expect([method, res.status, await res.text(), res.headers.get('content-type')]).toEqual([method, 200, 'hand-shake-1', expect.stringContaining('text/plain')]);
    }
    const bare = await http().get(BC_WEBHOOK_PATH);
    expect(bare.status).toBe(400);
    expect(bare.data.issues).toEqual([{ field: 'validationToken', message: 'required' }]);
  });

  it("refuses an old subscription's clientState: 401 to the sender, which drops that subscription; nothing starts", async () => {
    const before = await workflowsOnQueue();
    // A subscription left from before the clientState was rotated: BC still holds and sends the old value.
    const old = await s.deps.bc.createSubscription({ notificationUrl: `${s.apiUrl}${BC_WEBHOOK_PATH}`, entitySet: 'salesInvoices', clientState: 'a-rotated-away-client-state-0001' });
    const erp = await postFreshInvoice(s, { customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '10.00' }] });
    await eventually(async () => !(await s.deps.bc.listSubscriptions()).some((x) => x.subscriptionId === old.subscriptionId), 10000, 'the sandbox to drop the refused subscription');

    const res = await http().post(BC_WEBHOOK_PATH, notification(erp.id, 'a-rotated-away-client-state-0001'));
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ error: 'unknown_client_state' });
    await neverStarted(invoiceWorkflowId(s.bc.companyId, erp.number));
    expect(await workflowsOnQueue()).toEqual(before);
  });

  it('answers a notification without a resource with 400 naming it, one without a clientState with 401, malformed JSON with 400', async () => {
    const body = notification('00000000-0000-4000-8000-000000000000', s.config.env.BC_WEBHOOK_CLIENT_STATE);
    const { resource: _r, ...noResource } = body.value[0];
    const missing = await http().post(BC_WEBHOOK_PATH, { value: [noResource] });
    expect(missing.status).toBe(400);
    expect(missing.data.error).toBe('invalid_notification');
    expect(missing.data.issues).toEqual([expect.objectContaining({ field: 'value.0.resource' })]);
    const { clientState: _c, ...noClientState } = body.value[0];
    const anonymous = await http().post(BC_WEBHOOK_PATH, { value: [noClientState] });
    expect(anonymous.status).toBe(401);
    expect(anonymous.data).toEqual({ error: 'unknown_client_state' });
    const malformed = await postRaw(BC_WEBHOOK_PATH, '{"value": [');
    expect(malformed.status).toBe(400);
    expect(malformed.data.error).toBe('invalid_request');
  });

  it('answers a body over the size limit with 413', async () => {
    const body = notification('00000000-0000-4000-8000-000000000000', s.config.env.BC_WEBHOOK_CLIENT_STATE);
    const res = await http().post(BC_WEBHOOK_PATH, { value: Array.from({ length: 4000 }, () => body.value[0]) });
    expect(JSON.stringify({ value: Array.from({ length: 4000 }, () => body.value[0]) }).length).toBeGreaterThan(1024 * 1024);
    expect(res.status).toBe(413);
    expect(res.data.error).toBe('payload_too_large');
  });

  it('accepts a notification for an invoice the ERP does not have and starts nothing', async () => {
    const before = await workflowsOnQueue();
    const res = await http().post(BC_WEBHOOK_PATH, notification('0badf00d-0000-4000-8000-000000000000', s.config.env.BC_WEBHOOK_CLIENT_STATE));
    expect(res.status).toBe(202);
    expect(res.data).toEqual({ accepted: [] });
    expect(await workflowsOnQueue()).toEqual(before);
  });

  it('starts the invoice once however often the same notification arrives', async () => {
    const erp = await postFreshInvoice(s, { customerNumber: 'C10000', lines: [{ description: 'Service', quantity: 1, unitPrice: '12.00' }] });
    const body = notification(erp.id, s.config.env.BC_WEBHOOK_CLIENT_STATE);
    const answers = await Promise.all([1, 2, 3].map(() => http().post(BC_WEBHOOK_PATH, body)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.data.accepted)).toEqual([[`${erp.number}: accepted`], [`${erp.number}: accepted`], [`${erp.number}: accepted`]]);
    const runs = async () => {
      const ids: string[] = [];
      for await (const wf of s.t.client.workflow.list({ query: `WorkflowType = 'invoiceLifecycle' AND InvoiceNumber = '${erp.number}' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'` })) ids.push(wf.runId);
      return ids;
    };
    await eventually(async () => (await runs()).length > 0, 10000, 'the invoice workflow listed');
    await new Promise((r) => setTimeout(r, 1000));
    const current = await s.t.client.workflow.getHandle(invoiceWorkflowId(s.bc.companyId, erp.number)).describe();
    expect(current.taskQueue).toBe(s.config.env.TEMPORAL_TASK_QUEUE);
    expect(await runs()).toEqual([current.runId]);
  });
});

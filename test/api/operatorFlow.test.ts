import { registerPortalWebhooks } from '../../src/operations/services';
import { CustomerNumber } from '../../src/temporal/searchAttributes';
import { invoiceWorkflowId } from '../../workflows/ids';
import { payOnPortal } from '../support/portalPay';
import { eventually, startStack, type TestStack } from '../support/stack';

// The operator/finance routes with a worker behind them: both sandboxes, the sinks, our API and a worker on a private
// task queue. Everything goes through the API as an operator would use it.

let s: TestStack;
let token: string;

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${s.apiUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  s = await startStack();
  token = s.config.env.API_TOKEN;
  await registerPortalWebhooks(s.ops, s.deps.portals);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('operator routes with a worker', () => {
  it('opts a customer in, starts a posted invoice, and works its link: state, list, copy, preview, send, timeline', async () => {
    const optIn = await api('POST', '/customers/opt-in', { numbers: ['C10000'], autoBill: false, by: 'ana' });
    expect(optIn.status).toBe(200);
    expect(optIn.json.customers[0]).toMatchObject({ customerNumber: 'C10000', optedIn: true, autoBill: false });
    const customer = await api('GET', '/customers/C10000');
    expect(customer.status).toBe(200);
    expect(customer.json).toMatchObject({ customerNumber: 'C10000', optedIn: true });

    const erp = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Support', quantity: 2, unitPrice: '50.00', taxPercent: '10' }] });
    const started = await api('POST', '/invoices', { numbers: [erp.number] });
    expect(started.status).toBe(202);
    expect(started.json.invoices).toEqual([{ invoiceNumber: erp.number, outcome: 'accepted', workflowId: invoiceWorkflowId(s.ops.companyId, erp.number) }]);

    const state = await eventually(async () => {
      const r = await api('GET', `/invoices/${erp.number}`);
      return r.json.stage === 'link_sent' && r.json;
    }, 15_000, 'stage link_sent');
    expect(state).toMatchObject({ invoiceNumber: erp.number, customerNumber: 'C10000', totalMinor: 11000, currency: 'USD' });

    // Findable by customer once the workflow has indexed it.
    const listed = await eventually(async () => {
      const r = await api('GET', '/invoices?customer=C10000&stage=link_sent');
      return r.json.invoices.find((row: { invoiceNumber: string }) => row.invoiceNumber === erp.number);
    }, 10_000, 'the invoice in the list');
    expect(listed).toMatchObject({ customerNumber: 'C10000', stage: 'link_sent', status: 'RUNNING' });
    const described = await s.t.client.workflow.getHandle(invoiceWorkflowId(s.ops.companyId, erp.number)).describe();
    expect(described.typedSearchAttributes.get(CustomerNumber)).toBe('C10000');

    const copied = await api('POST', `/invoices/${erp.number}/copy-link`, { by: 'ana' });
    expect(copied.status).toBe(200);
    expect(copied.json.link).toBe(state.portal.link);
    const preview = await api('GET', `/invoices/${erp.number}/preview-link`);
    expect(preview.status).toBe(200);
    expect(preview.json.link).toContain(s.portal.url);

    const sent = await api('POST', `/invoices/${erp.number}/send-link`, { channels: ['sms', 'sms'], by: 'bo' });
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ invoiceNumber: erp.number, sent: ['sms'], link: state.portal.link });

    const timeline = await api('GET', `/invoices/${erp.number}/timeline`);
    expect(timeline.status).toBe(200);
    const events = timeline.json.timeline as Array<{ kind: string; by?: string; channel?: string }>;
    expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'link_copied', by: 'ana' }), expect.objectContaining({ kind: 'link_sent', channel: 'sms', by: 'bo' })]));

    // Cancel ends the workflow; a second cancel is refused as a conflict naming the ended invoice, not a 404 or a 500.
    const cancelled = await api('POST', `/invoices/${erp.number}/cancel`, { by: 'ana', why: 'credited in the ERP' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ stage: 'cancelled', cancelled: true });
    const again = await api('POST', `/invoices/${erp.number}/cancel`, { by: 'ana', why: 'twice' });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ error: 'conflict', message: `invoice ${erp.number} has ended (completed); nothing more can be changed on it` });
    // A reset would sync the cancelled invoice again (and send its link): refused as a conflict saying why.
    const reset = await api('POST', `/invoices/${erp.number}/reset`, { by: 'bo', why: 'resync' });
    expect(reset.status).toBe(409);
    expect(reset.json).toEqual({
      error: 'conflict',
      message: `invoice ${erp.number} was cancelled (by ana): a reset would sync a cancelled invoice again; post a new invoice in the ERP instead`,
    });
  });

  it('shows a portal payment and refuses a finance decision for one that does not need attention (409)', async () => {
    await api('POST', '/customers/opt-in', { numbers: ['C20000'], by: 'ana' });
    const erp = s.bc.admin.postInvoice({ customerNumber: 'C20000', lines: [{ description: 'Parts', quantity: 1, unitPrice: '80.00', taxPercent: '0' }] });
    await api('POST', '/invoices', { numbers: [erp.number] });
    const state = await eventually(async () => {
      const r = await api('GET', `/invoices/${erp.number}`);
      return r.json.portal && r.json;
    }, 15_000, 'the portal invoice');

    const { paymentId, feeMinor } = await payOnPortal(s.portal.url, state.portal.invitationKey, [{ invoiceId: state.portal.invoiceId, amount: '30.00' }]);
    const payment = await eventually(async () => {
      const r = await api('GET', `/payments/default/${paymentId}`);
      return r.status === 200 && r.json.stage === 'posted' && r.json;
    }, 20_000, 'payment posted');
    // The portal adds its convenience fee to what the customer pays.
    expect(payment.context).toMatchObject({ amountMinor: 3000 + feeMinor, currency: 'USD', customerNumber: 'C20000', invoiceNumbers: [erp.number] });

    const staged = await eventually(async () => {
      const r = await api('GET', '/payments?customer=C20000');
      return r.json.payments.find((p: { paymentId: string }) => p.paymentId === paymentId);
    }, 10_000, 'the payment in the staging list');
    expect(staged).toMatchObject({ stage: 'posted', customerNumber: 'C20000' });

    const refused = await api('POST', `/payments/default/${paymentId}/resolve`, { action: 'skip', by: 'ana', why: 'looks odd' });
    expect(refused.status).toBe(409);
    // Refused either way: by the workflow while its run is still finishing, or because the run has ended.
    // (an ended run with no reason left has nothing to re-post).
    expect(refused.json).toEqual({ error: 'conflict', message: expect.stringMatching(/does not need attention|has ended \(completed\)|no reason left for finance: nothing to re-post/) });
  });
});

import axios from 'axios';
import type { Client } from '@temporalio/client';
import { PORTAL_WEBHOOK_SECRET_HEADER } from '../../src/http/routes/portalWebhook';
import { parseDecimal } from '../../src/domain/money';
import { setOptIn } from '../../src/operations/customers';
import { paymentState, resolve } from '../../src/operations/payments';
import { registerPortalWebhooks } from '../../src/operations/services';
import { startInvoice } from '../../src/temporal/starters';
import { AttentionReason, Stage } from '../../src/temporal/searchAttributes';
import { payOnPortal } from '../support/portalPay';
import { eventually, startStack, type TestStack } from '../support/stack';
import { postFreshInvoice } from './freshInvoice';

// Bad payments reach arsync through the real portal webhook: amounts that are zero, absurd or misstated in the body,
// a currency that is not the invoice's, an invoice the ERP does not know, and ids the portal does not know. Each ends in
// its specified place (posted once, parked with a reason code, or refused) and the ERP ledger shows exactly that.

let s: TestStack;
let c10000: string;
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  s = await startStack({ settings: { payments: { adjustmentWindow: '1s' } } });
  await registerPortalWebhooks(s.ops, s.deps.portals);
  const [c] = await setOptIn(s.ops, ['C10000'], { optedIn: true, by: 'test' });
  c10000 = c.portal!.clientId;
}, 60000);
afterAll(async () => {
  await s?.close();
});

const portal = () => s.deps.portals.client('default');
const ledgerFor = (externalDocumentNumber: string) => s.bc.admin.listLedgerEntries().filter((e) => e.externalDocumentNumber === externalDocumentNumber);
const ledgerSize = () => s.bc.admin.listLedgerEntries().length;

async function paymentRows(client: Client, paymentId: string) {
  const rows = [];
  // Scoped to this stack: other test files' sandboxes hand out the same payment ids on the shared Temporal server.
  const query = `WorkflowType = 'portalPayment' AND PortalPaymentId = '${paymentId}' AND TaskQueue = '${s.config.env.TEMPORAL_TASK_QUEUE}'`;
  for await (const wf of client.workflow.list({ query })) rows.push(wf);
  return rows;
}

/** The payment's workflow as the Temporal UI lists it: stage and attention reason. */
async function parked(paymentId: string, reason: string) {
  return eventually(async () => {
    const rows = await paymentRows(s.t.client, paymentId);
    const row = rows[0];
    return rows.length === 1 && row.typedSearchAttributes.get(Stage) === 'needs_attention' && row.typedSearchAttributes.get(AttentionReason) === reason && row;
  }, 15000, `payment ${paymentId} parked with ${reason}`);
}

async function syncedInvoice(customerNumber: string) {
  const erp = await postFreshInvoice(s, { customerNumber, lines: [{ description: 'Service', quantity: 1, unitPrice: '200.00', taxPercent: '0' }] });
  expect(await startInvoice(s.ops, s.ops.companyId, erp.number)).toBe('accepted');
  const inv = await eventually(() => portal().findInvoiceByNumber(erp.number), 15000, `invoice ${erp.number} in the portal`);
  return { erp, inv };
}

describe('bad payments arriving by webhook', () => {
  it('amounts misstated in a replayed webhook body are not trusted: the portal amount is posted, once', async () => {
    const { erp, inv } = await syncedInvoice('C10000');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitations[0].key, [{ invoiceId: inv.id, amount: '50.00' }]);
    await eventually(() => ledgerFor(paymentId).some((e) => e.documentType === 'Payment'), 15000, 'the payment posted');
    const body = (await axios.get(`${s.portal.url}/api/v1/payments/${paymentId}`, { params: { include: 'invoices,client' }, headers: { 'X-API-TOKEN': 'arsync-demo-token' } })).data.data;

    // The same payment again, claiming zero, negative and absurd amounts: each is only a hint to re-read the portal.
    for (const amount of [0, -50, 99999999999]) {
      const res = await axios.post(`${s.apiUrl}/webhooks/invoice-ninja/default/update_payment`, { ...body, amount, applied: amount }, {
        headers: { [PORTAL_WEBHOOK_SECRET_HEADER]: s.config.env.PORTAL_WEBHOOK_SECRET },
        validateStatus: () => true,
      });
      expect(res.status).toBe(200);
    }
    await eventually(async () => (await paymentRows(s.t.client, paymentId)).every((r) => r.status.name === 'COMPLETED'), 15000, 'the replays handled');
    const posted = ledgerFor(paymentId).filter((e) => e.documentType === 'Payment');
    expect(posted).toHaveLength(1);
    expect(-parseDecimal(posted[0].amount, 'USD')).toBe(5000);
    expect(parseDecimal(s.bc.admin.getInvoice(erp.number).remaining, 'USD')).toBe(20000 - 5000);
  });

  it('an absurd amount waits for finance (over_cap) and posts nothing', async () => {
    const before = ledgerSize();
    const p = await portal().createPayment({ clientId: c10000, amountMinor: 200_000_000_00, currency: 'USD', invoices: [], idempotencyKey: 'absurd-1', date: today(), transactionReference: 'wire absurd-1' });
    await parked(p.id, 'over_cap');
    expect(ledgerSize()).toBe(before);
  });

  it('a zero payment is skipped with its reason recorded, and posts nothing', async () => {
    const before = ledgerSize();
    const p = await portal().createPayment({ clientId: c10000, amountMinor: 0, currency: 'USD', invoices: [], idempotencyKey: 'zero-1', date: today(), transactionReference: 'zero-1' });
    expect(p.amount.minor).toBe(0);
    const row = await eventually(async () => (await paymentRows(s.t.client, p.id)).find((r) => r.status.name !== 'RUNNING'), 15000, 'the zero payment settled');
    expect(row.status.name).toBe('COMPLETED');
    expect(row.typedSearchAttributes.get(Stage)).toBe('skipped');
    const state = (await s.t.client.workflow.getHandle(row.workflowId, row.runId).result()) as { decisions: Array<{ action: string; why: string }> };
    expect(state.decisions).toEqual([expect.objectContaining({ action: 'skip', why: expect.stringMatching(/zero/) })]);
    expect(ledgerSize()).toBe(before);
  });

  it("a payment in another currency than the ERP invoice's waits for finance (currency_mismatch)", async () => {
    // A portal client in EUR for ERP customer C20000 (USD), paying an invoice that carries an ERP invoice's number.
    const erp = s.bc.admin.postInvoice({ customerNumber: 'C20000', lines: [{ description: 'Service', quantity: 1, unitPrice: '80.00', taxPercent: '0' }] });
    const client = await portal().createClient('C20000', { name: 'Trey Research (EUR)', currency: 'EUR', contacts: [{ firstName: 'Trey', lastName: 'Payer', email: 'trey@example.com', isPrimary: true, sendEmail: false }] });
    const inv = await portal().createInvoice({ clientId: client.id, currency: 'EUR', number: erp.number, lines: [{ notes: 'Service', quantity: 1, unitPriceMinor: 8000 }] }, { markSent: true });
    const before = ledgerSize();
    const p = await portal().createPayment({ clientId: client.id, amountMinor: 8000, currency: 'EUR', invoices: [{ invoiceId: inv.id, amountMinor: 8000 }], idempotencyKey: 'eur-1', date: today(), transactionReference: 'eur-1' });
    await parked(p.id, 'currency_mismatch');
    expect(ledgerSize()).toBe(before);
    expect(s.bc.admin.getInvoice(erp.number).remaining).toBe('80.00');
  });

  it('a payment for an invoice the ERP does not know waits for finance (unknown_invoice)', async () => {
    const inv = await portal().createInvoice({ clientId: c10000, currency: 'USD', number: 'NOT-IN-ERP-1', lines: [{ notes: 'Service', quantity: 1, unitPriceMinor: 3000 }] }, { markSent: true });
    const before = ledgerSize();
    const p = await portal().createPayment({ clientId: c10000, amountMinor: 3000, currency: 'USD', invoices: [{ invoiceId: inv.id, amountMinor: 3000 }], idempotencyKey: 'unknown-inv-1', date: today(), transactionReference: 'unknown-inv-1' });
    await parked(p.id, 'unknown_invoice');
    expect(ledgerSize()).toBe(before);
  });

  it('a negative payment with no partner is a refund to the customer, posted once', async () => {
    const p = await portal().createPayment({ clientId: c10000, amountMinor: -1500, currency: 'USD', invoices: [], idempotencyKey: 'neg-1', date: today(), transactionReference: 'neg-1' });
    expect(p.amount.minor).toBe(-1500);
    await eventually(async () => (await paymentRows(s.t.client, p.id))[0]?.typedSearchAttributes.get(Stage) === 'refunded', 20000, 'the refund posted');
    const entries = ledgerFor(p.id);
    expect(entries).toHaveLength(1);
    expect(entries[0].customerNumber).toBe('C10000');
    expect(parseDecimal(entries[0].amount, 'USD')).toBe(1500);
  });

  it('a webhook for a payment id the portal does not know posts nothing and parks (unknown_payment) until finance closes it', async () => {
    const body = (await axios.get(`${s.portal.url}/api/v1/payments`, { params: { include: 'invoices,client', per_page: 1 }, headers: { 'X-API-TOKEN': 'arsync-demo-token' } })).data.data[0];
    const forged = { ...body, id: 'Wpmbk5ezJn' };
    const before = ledgerSize();
    const send = () =>
      axios.post(`${s.apiUrl}/webhooks/invoice-ninja/default/create_payment`, forged, {
        headers: { [PORTAL_WEBHOOK_SECRET_HEADER]: s.config.env.PORTAL_WEBHOOK_SECRET },
        validateStatus: () => true,
      });
    // Accepted (the body only identifies a payment; a 404 would make the portal archive the subscription), then the
    // re-read finds nothing: parked with its reason, naming the id and the portal's answer, never failed or retried.
    expect((await send()).status).toBe(200);
    const row = await parked(forged.id, 'unknown_payment');
    const state = await paymentState(s.ops, 'default', forged.id);
    expect(state.attention?.detail).toMatch(/does not know payment Wpmbk5ezJn: get payment Wpmbk5ezJn/);
    // The same webhook again starts nothing new.
    expect((await send()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await paymentRows(s.t.client, forged.id)).toHaveLength(1);

    const closed = await resolve(s.ops, 'default', forged.id, { action: 'skip', by: 'finance@cronus.example', why: 'forged or purged payment' });
    expect(closed.stage).toBe('skipped');
    const done = await eventually(async () => (await paymentRows(s.t.client, forged.id)).find((r) => r.status.name !== 'RUNNING'), 15000, 'the forged payment closed');
    expect(done.status.name).toBe('COMPLETED');
    expect(done.runId).toBe(row.runId);
    expect(ledgerSize()).toBe(before);
  });
});

import { parseDecimal } from '../../src/domain/money';
import { createIntakeActivities } from '../../activities/intake';
import type { PortalCursor } from '../../activities/intakeTypes';
import { paymentState } from '../../src/operations/payments';
import { portalWatcherWorkflowId } from '../../workflows/ids';
import { pollNowSignal, watcherStateQuery } from '../../workflows/portalWatcher';
import { payOnPortal } from '../support/portalPay';
import { eventually, type TestStack } from '../support/stack';
import { apiPayment, ledger, paymentAt, paymentRuns, portalPaymentBody, postErpInvoice, remaining, sleep, startPaymentStack, submissions } from './paymentFixtures';

// Intake: the webhook endpoint and the poller both signal-with-start one workflow per portal payment, so duplicates,
// out-of-order deliveries and the two paths racing each other end in exactly one ERP posting.

async function deliver(s: TestStack, event: string, body: unknown, secret = s.config.env.PORTAL_WEBHOOK_SECRET) {
  return fetch(`${s.apiUrl}/webhooks/invoice-ninja/default/${event}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-arsync-webhook-secret': secret },
    body: JSON.stringify(body),
  });
}

describe('webhook deliveries only (portal webhooks not registered, hourly poll)', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await startPaymentStack({ webhooks: false, settings: { polling: { paymentsInterval: '1h' } } });
  }, 60000);
  afterAll(async () => {
    await s?.close();
  });

  it('refuses a wrong secret and a body that is not a payment, without starting anything', async () => {
    const inv = await postErpInvoice(s, 'C10000', '40.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '40.00' }]);
    const body = await portalPaymentBody(s, paymentId);
    expect((await deliver(s, 'create_payment', body, 'not-the-secret-at-all')).status).toBe(401);
    expect((await deliver(s, 'create_payment', { id: paymentId })).status).toBe(422);
    expect((await deliver(s, 'pay_invoice', body)).status).toBe(400);
    await sleep(300);
    expect(await paymentRuns(s, paymentId)).toHaveLength(0);
    expect(ledger(s, paymentId)).toHaveLength(0);
  });

  it('posts once when the same payment is delivered five times per event, out of order, and again after posting', async () => {
    const inv = await postErpInvoice(s, 'C10000', '75.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '75.00' }]);
    const body = await portalPaymentBody(s, paymentId);
    const stale = { ...body, updated_at: Number(body.updated_at) - 60 };
    // update before create, duplicates interleaved, a stale copy in the middle: all at once.
    const order = ['update_payment', 'create_payment', 'update_payment', 'create_payment', 'stale', 'create_payment', 'update_payment', 'create_payment', 'update_payment', 'create_payment', 'update_payment'];
    const answers = await Promise.all(order.map((e) => (e === 'stale' ? deliver(s, 'update_payment', stale) : deliver(s, e, body))));
    expect(answers.map((a) => a.status)).toEqual(order.map(() => 200));

    await paymentAt(s, paymentId, 'posted');
    const done = async (n: number) => {
      const runs = await paymentRuns(s, paymentId);
      return runs.length >= n && runs.every((r) => r.status.name === 'COMPLETED') && runs;
    };
    await eventually(() => done(1), 15000, 'the first run to finish');
    // Created again after it was posted: the finished run read the portal after it, so no new run starts.
    for (let i = 0; i < 3; i++) expect((await deliver(s, 'create_payment', body)).status).toBe(200);
    await sleep(500);
    expect(await done(1)).toHaveLength(1);
    expect((await paymentState(s.ops, 'default', paymentId)).stage).toBe('posted');
    // An update event always gets a run (it could be a refund in the same second): it finds the posting, posts nothing.
    for (let i = 0; i < 2; i++) expect((await deliver(s, 'update_payment', body)).status).toBe(200);
    await eventually(() => done(2), 15000, 'the later run to finish');
    expect((await paymentState(s.ops, 'default', paymentId)).stage).toBe('posted');

    const entries = ledger(s, paymentId);
    expect(entries).toHaveLength(1);
    expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-7500);
    expect(await submissions(s, paymentId)).toBe(1);
  });

  it('the poll hands on a payment voided within the same second as the poll that handed it on', async () => {
    // The poll's own activity, on a task queue no worker polls: the payments it hands on start workflows that never run.
    const unpolled = `unpolled-${Date.now()}`;
    const acts = createIntakeActivities({ ...s.deps, temporal: { ...s.deps.temporal, taskQueue: unpolled } });
    const portal = s.deps.portals.client('default');
    const inv = await postErpInvoice(s, 'C10000', '60.00');
    let cursor: PortalCursor = { invoices: { since: 0, seen: [] }, payments: { since: 0, seen: [] } };
    cursor = (await acts.pollPortalChanges({ companyId: s.ops.companyId, connectionKey: 'default', cursor, payments: true })).cursor;
    let sameSecond = 0;
    for (let attempt = 0; attempt < 5 && sameSecond === 0; attempt++) {
      while (Date.now() % 1000 > 100) await sleep(5);
      const p = await portal.createPayment({
        clientId: inv.portalClientId,
        amountMinor: 100,
        currency: 'USD',
        invoices: [{ invoiceId: inv.portalInvoiceId, amountMinor: 100 }],
        idempotencyKey: `same-second-${Date.now()}-${attempt}`,
        date: '2026-11-28',
        transactionReference: 'same second',
      });
      const first = await acts.pollPortalChanges({ companyId: s.ops.companyId, connectionKey: 'default', cursor, payments: true });
      expect(first.paymentsSignalled).toBe(1);
      const voided = await portal.deletePayment(p.id);
      const second = await acts.pollPortalChanges({ companyId: s.ops.companyId, connectionKey: 'default', cursor: first.cursor, payments: true });
      cursor = second.cursor;
      if (voided.updatedAt !== p.updatedAt) continue;
      sameSecond++;
      expect(second.paymentsSignalled).toBe(1);
    }
    for await (const wf of s.t.client.workflow.list({ query: `TaskQueue = '${unpolled}' AND ExecutionStatus = 'Running'` })) {
      await s.t.client.workflow.getHandle(wf.workflowId).terminate('test over');
    }
    expect(sameSecond).toBe(1);
  });

  it('the poller keeps a visible cursor that survives a worker restart, and "poll now" reads at once', async () => {
    const watcher = s.t.client.workflow.getHandle(portalWatcherWorkflowId('default'));
    // Poll now: the cursor moves past the payments made so far, this one included (re-reading them posts nothing new).
    const first = await postErpInvoice(s, 'C20000', '18.00');
    const paid = await payOnPortal(s.portal.url, first.invitationKey, [{ invoiceId: first.portalInvoiceId, amount: '18.00' }]);
    const { updatedAt } = await s.deps.portals.client('default').getPayment(paid.paymentId);
    await watcher.signal(pollNowSignal);
    const before = await eventually(async () => {
      const st = await watcher.query(watcherStateQuery);
      return st.cursor.payments.since >= updatedAt && st;
    }, 10000, 'a poll that moved the payments cursor past the payment');
    await paymentAt(s, paid.paymentId, 'posted');
    await s.restartWorker();
    const after = await watcher.query(watcherStateQuery);
    expect(after.cursor.payments).toEqual(before.cursor.payments);

    // No webhook and an hourly poll: nothing happens to a new payment until someone asks for a poll.
    const inv = await postErpInvoice(s, 'C20000', '19.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '19.00' }]);
    await sleep(1000);
    expect(await paymentRuns(s, paymentId)).toHaveLength(0);
    await watcher.signal(pollNowSignal);
    await paymentAt(s, paymentId, 'posted');
    expect(ledger(s, paymentId)).toHaveLength(1);
    const polled = await watcher.query(watcherStateQuery);
    expect(polled.cursor.payments.since).toBeGreaterThanOrEqual(after.cursor.payments.since);
    expect(polled.paymentsSignalled).toBeGreaterThan(after.paymentsSignalled);
  });

  it('a payment refunded in the portal by amount only (no invoice rows) before it was read posts the rest, applied to its invoice', async () => {
    const inv = await postErpInvoice(s, 'C10000', '80.00');
    const p = await apiPayment(s, inv.portalClientId, 8000, [{ invoiceId: inv.portalInvoiceId, amountMinor: 8000 }]);
    await s.deps.portals.client('default').refundPayment({ paymentId: p.id, currency: 'USD', date: new Date().toISOString().slice(0, 10), amountMinor: 2000 });
    expect((await deliver(s, 'create_payment', await portalPaymentBody(s, p.id))).status).toBe(200);

    const posted = await paymentAt(s, p.id, 'posted');
    expect(posted.plan?.parts).toEqual([expect.objectContaining({ kind: 'applied', invoiceNumber: inv.number, amountMinor: 6000 })]);
    expect(ledger(s, p.id).map((e) => parseDecimal(e.amount, 'USD'))).toEqual([-6000]);
    expect(remaining(s, inv.number)).toBe(2000);
    // Planned in workflow code without a failed workflow task (one would be retried for ever, the payment left staged).
    const [run] = await paymentRuns(s, p.id);
    const history = await s.t.client.workflow.getHandle(run!.workflowId, run!.runId).fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  });
});

describe('webhooks and a fast poller racing', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await startPaymentStack({ settings: { polling: { paymentsInterval: '200ms', viewsInterval: '200ms' } } });
  }, 60000);
  afterAll(async () => {
    await s?.close();
  });

  it('posts each payment once when both the webhook and the poller report it', async () => {
    const invoices = await Promise.all(['31.00', '32.00', '33.00', '34.00', '35.00'].map((a) => postErpInvoice(s, 'C20000', a)));
    const paid: Array<{ paymentId: string }> = [];
    for (const inv of invoices) paid.push(await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: (inv.totalMinor / 100).toFixed(2) }]));
    for (const { paymentId } of paid) await paymentAt(s, paymentId, 'posted');
    // Let the poller see every payment too (it reads them within a poll interval of their last change).
    const watcher = s.t.client.workflow.getHandle(portalWatcherWorkflowId('default'));
    await eventually(async () => (await watcher.query(watcherStateQuery)).paymentsSignalled >= paid.length, 10000, 'the poller to report every payment');
    const deliveries = s.portal.admin.webhookDeliveries().filter((d) => paid.some((p) => d.entity_id === p.paymentId));
    expect(new Set(deliveries.map((d) => d.entity_id)).size).toBe(paid.length);
    await sleep(500);

    for (const [i, { paymentId }] of paid.entries()) {
      const entries = ledger(s, paymentId);
      expect(entries).toHaveLength(1);
      expect(parseDecimal(entries[0]!.amount, 'USD')).toBe(-invoices[i]!.totalMinor);
      expect(await submissions(s, paymentId)).toBe(1);
    }
  });
});

describe('a portal in use before arsync', () => {
  let s: TestStack;
  let before = '';
  beforeAll(async () => {
    s = await startPaymentStack({
      webhooks: false,
      settings: { polling: { paymentsInterval: '1s', firstPollLookback: '0s' } },
      // A payment the portal took before arsync's watcher first started (never arsync's to post).
      beforeSetup: async (st) => {
        const portal = st.deps.portals.client('default');
        const client = await portal.findOrCreateClient('OLD-1', { name: 'Before arsync Ltd', currency: 'USD' });
        const inv = await portal.createInvoice({ clientId: client.id, currency: 'USD', number: 'OLD-INV-1', lines: [{ quantity: 1, unitPriceMinor: 2500 }] }, { markSent: true });
        const p = await portal.createPayment({
          clientId: client.id,
          amountMinor: 2500,
          currency: 'USD',
          invoices: [{ invoiceId: inv.id, amountMinor: 2500 }],
          idempotencyKey: `before-arsync-${Date.now()}`,
          date: '2026-11-01',
          transactionReference: 'before arsync',
        });
        before = p.id;
        // The watcher starts in a later second than the payment's updated_at.
        await sleep(1100);
      },
    });
  }, 60000);
  afterAll(async () => {
    await s?.close();
  });

  it("the watcher's first poll reads from its start (less the lookback), not the portal's whole history", async () => {
    const inv = await postErpInvoice(s, 'C10000', '30.00');
    const { paymentId } = await payOnPortal(s.portal.url, inv.invitationKey, [{ invoiceId: inv.portalInvoiceId, amount: '30.00' }]);
    await paymentAt(s, paymentId, 'posted', 20000);
    const watcher = await s.t.client.workflow.getHandle(portalWatcherWorkflowId('default')).query(watcherStateQuery);
    expect(watcher.paymentsSignalled).toBeGreaterThanOrEqual(1);
    expect(await paymentRuns(s, before)).toHaveLength(0);
    expect(ledger(s, before)).toHaveLength(0);
  });
});

import { setOptIn } from '../../src/operations/customers';
import { invoiceState, startInvoices } from '../../src/operations/invoices';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { bcSubscriptionWorkflowId, invoiceWorkflowId } from '../../workflows/ids';
import { subscriptionStateQuery } from '../../workflows/bcSubscription';
import { createSubscriptionActivities } from '../../activities/subscriptions';
import { eventually, invoiceAt, startStack, type TestStack } from '../support/stack';

// Business Central's notifications as they really come. When more records change in one notification window than it
// lists one by one, it sends a single `collection` notification whose resource filters on lastModifiedDateTime: our
// endpoint re-reads what changed since then and starts every posted invoice among them (this stack's sandbox lists at
// most 3 records per window). And it drops a subscription whose endpoint kept failing: arsync notices at its next
// check (every second here), makes a new one and starts what was posted meanwhile.

let s: TestStack;
const linkSent = (number: string) => invoiceAt(s, number, 'link_sent', 15000);

beforeAll(async () => {
  s = await startStack({ bcCollectionThreshold: 3, settings: { polling: { bcSubscriptionCheckInterval: '1s' } } });
  await registerPortalWebhooks(s.ops, s.deps.portals);
  await startServiceWorkflows(s.ops, s.deps.portals);
  await setOptIn(s.ops, ['C10000', 'C20000'], { optedIn: true, by: 'test' });
  await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
}, 90000);
afterAll(async () => {
  await s?.close();
});

it('five invoices posted at once arrive as one collection notification: each starts once and reaches the portal with its link', async () => {
  const before = s.bc.admin.notificationDeliveries().length;
  const posted = s.bc.admin.postInvoices(
    Array.from({ length: 5 }, (_, i) => ({
      customerNumber: i % 2 ? 'C20000' : 'C10000',
      lines: [{ description: `Service ${i + 1}`, quantity: 1, unitPrice: `${100 + i}.00`, taxPercent: '5' }],
    })),
  );
  for (const inv of posted) expect((await linkSent(inv.number)).portal).not.toBeNull();
  // What Business Central sent: one collection, answered 2xx, and no notification per invoice.
  const sent = s.bc.admin.notificationDeliveries().slice(before).filter((d) => d.items.some((i) => i.resource.includes('salesInvoices')));
  expect(sent).toHaveLength(1);
  expect(sent[0]!.items).toEqual([{ changeType: 'collection', resource: expect.stringMatching(/salesInvoices\?\$filter=lastModifiedDateTime%20gt%20/) }]);
  expect(sent[0]!.status).toBe(202);
  // One run each, one portal invoice each.
  const portal = await s.deps.portals.client('default').listInvoicesUpdatedSince(0);
  for (const inv of posted) {
    expect(portal.filter((p) => p.number === inv.number)).toHaveLength(1);
    const runs = [];
    for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, inv.number)}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
  }
});

it('Business Central drops the subscription: the next check makes a new one and starts the invoice posted meanwhile; notifications flow again', async () => {
  const subscription = () => s.t.client.workflow.getHandle(bcSubscriptionWorkflowId(s.ops.companyId, 'salesInvoices')).query(subscriptionStateQuery);
  const [lost] = await s.deps.bc.listSubscriptions();
  expect(lost).toBeDefined();
  // What Business Central does after about two hours of failed deliveries (or one 4xx answer).
  await s.deps.bc.deleteSubscription(lost!.subscriptionId);
  const before = s.bc.admin.notificationDeliveries().length;
  const missed = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'Posted while unsubscribed', quantity: 1, unitPrice: '80.00', taxPercent: '5' }] });

  const st = await linkSent(missed.number);
  expect(st.portal).not.toBeNull();
  const state = await subscription();
  expect(state.subscriptionId).not.toBe(lost!.subscriptionId);
  expect(state.recreated).toBe(1);
  expect(state.catchUps).toBe(1);
  expect(state.lastCatchUp?.posted).toBeGreaterThanOrEqual(1);
  expect((await s.deps.bc.listSubscriptions()).map((x) => x.subscriptionId)).toEqual([state.subscriptionId]);
  // Nothing told arsync about that invoice but the catch-up: no notification went out while unsubscribed.
  expect(s.bc.admin.notificationDeliveries().slice(before).filter((d) => d.items.some((i) => i.resource.includes(missed.id)))).toEqual([]);

  // The new subscription delivers: the next invoice comes by its own notification.
  const next = s.bc.admin.postInvoice({ customerNumber: 'C20000', lines: [{ description: 'Posted once subscribed again', quantity: 1, unitPrice: '90.00', taxPercent: '5' }] });
  await linkSent(next.number);
  const told = s.bc.admin.notificationDeliveries().filter((d) => d.items.some((i) => i.resource.includes(next.id)));
  expect(told.map((d) => d.status)).toEqual([202]);
});

it('a subscription made with another clientState (the secret rotated) is taken over with the current one, at once and at every renewal', async () => {
  const [sub] = await s.deps.bc.listSubscriptions();
  expect(sub).toBeDefined();
  const states = async () => (await s.deps.bc.listSubscriptions()).map((x) => [x.subscriptionId, x.clientState]);
  // A build with a rotated secret finds the subscription: it keeps it, with its own clientState.
  const rotated = `rotated-${'r'.repeat(24)}`;
  const withRotated = createSubscriptionActivities({ ...s.deps, env: { ...s.deps.env, BC_WEBHOOK_CLIENT_STATE: rotated } });
  const taken = await withRotated.createBcSubscription({ companyId: s.ops.companyId, resource: 'salesInvoices' });
  expect(taken.subscriptionId).toBe(sub!.subscriptionId);
  expect(await states()).toEqual([[sub!.subscriptionId, rotated]]);
  // A renewal carries the current clientState too (here, back to the one this stack's API checks).
  const current = createSubscriptionActivities(s.deps);
  expect(await current.renewBcSubscription({ companyId: s.ops.companyId, subscriptionId: sub!.subscriptionId, resource: 'salesInvoices' })).toMatchObject({ status: 'renewed' });
  expect(await states()).toEqual([[sub!.subscriptionId, s.deps.env.BC_WEBHOOK_CLIENT_STATE]]);
  // Notifications are accepted again.
  const next = s.bc.admin.postInvoice({ customerNumber: 'C10000', lines: [{ description: 'After the rotation', quantity: 1, unitPrice: '40.00', taxPercent: '5' }] });
  await linkSent(next.number);
  expect(s.bc.admin.notificationDeliveries().filter((d) => d.items.some((i) => i.resource.includes(next.id))).map((d) => d.status)).toEqual([202]);
});

it('a released draft reads Open but is not posted: its notification starts nothing, a start by hand waits; once posted it syncs once', async () => {
  const draft = s.bc.admin.postInvoice({ customerNumber: 'C10000', draft: true, lines: [{ description: 'Released, not posted', quantity: 1, unitPrice: '70.00', taxPercent: '5' }] });
  const released = s.bc.admin.releaseDraftInvoice(draft.number);
  expect(released.status).toBe('Open');
  const answered = () => s.bc.admin.notificationDeliveries().filter((d) => d.items.some((i) => i.resource.includes(draft.id)) && d.status !== undefined);
  // Created (a draft) and released (read as Open) in one notification window: one notification, answered, no run.
  await eventually(async () => answered().length >= 1, 15000, 'the draft\'s notification answered');
  expect(answered().map((d) => d.status)).toEqual([202]);
  const runsOf = async (number: string) => {
    const runs = [];
    for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, number)}'` })) runs.push(wf.runId);
    return runs;
  };
  expect(await runsOf(draft.number)).toEqual([]);

  // Started by hand all the same: the sync sees it unposted and waits for it, and nothing reaches the portal.
  await startInvoices(s.ops, [draft.number]);
  const waiting = await eventually(async () => {
    const st = await invoiceState(s.ops, draft.number);
    return st.attention !== null && st;
  }, 15000, `invoice ${draft.number} waiting`);
  expect(waiting).toMatchObject({ stage: 'needs_attention', portal: null, attention: { reason: 'drift', detail: 'the ERP invoice is not posted' } });
  const portal = s.deps.portals.client('default');
  expect((await portal.listInvoicesUpdatedSince(0)).filter((p) => p.number === draft.number)).toEqual([]);

  // Posted: a posted number, its own run, one portal invoice with the link. The notification's reader checked the
  // ledger; the sync it started did not ask again.
  const mark = s.bcRequests.length;
  const posted = s.bc.admin.postDraftInvoice(draft.number);
  expect(posted.number).not.toBe(draft.number);
  expect((await linkSent(posted.number)).portal).not.toBeNull();
  expect(s.bcRequests.slice(mark).filter((r) => r.includes('customerLedgerEntries') && r.includes(`documentNumber eq '${posted.number}'`))).toHaveLength(1);
  expect((await portal.listInvoicesUpdatedSince(0)).filter((p) => p.number === posted.number)).toHaveLength(1);
  expect(await runsOf(posted.number)).toHaveLength(1);
});

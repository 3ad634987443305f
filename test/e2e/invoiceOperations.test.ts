import axios from 'axios';
import { parseDecimal } from '../../src/domain/money';
import { setOptIn } from '../../src/operations/customers';
import { cancelInvoice, copyLink, invoiceState, invoiceTimeline, listInvoices, resetInvoice, sendLink, startInvoices } from '../../src/operations/invoices';
import { paymentState } from '../../src/operations/payments';
import { registerPortalWebhooks, startServiceWorkflows } from '../../src/operations/services';
import { CustomerNumber, InvoiceNumber, Stage } from '../../src/temporal/searchAttributes';
import { invoiceWorkflowId } from '../../workflows/ids';
import { invoiceLifecycle } from '../../workflows/invoiceLifecycle';
import type { InvoiceState } from '../../workflows/invoiceTypes';
import { createNotificationActivities } from '../../activities/notifications';
import { payOnPortal } from '../support/portalPay';
import { eventually, invoiceAt, startStack, type TestStack } from '../support/stack';

// The invoice's life after it reaches the portal: triggers that repeat, "Modify Sync Status", cancel from the ERP and
// from an operator, link sent again and copied, the timeline, and a full payment that ends the workflow as posted.

let s: TestStack;
type Mail = { subject: string; to: string[] | string; text: string };
const mail = async (to?: string) => (await axios.get(`${s.sinks.httpUrl}/mail`, { params: to ? { to } : {} })).data as Mail[];
const sms = async () => (await axios.get(`${s.sinks.httpUrl}/sms`)).data as Array<{ to: string; body: string }>;
const handle = (number: string) => s.t.client.workflow.getHandle<typeof invoiceLifecycle>(invoiceWorkflowId(s.ops.companyId, number));
const portal = () => s.deps.portals.client('default');
const linkMails = async (link: string) => (await mail('ap@adatum.example')).filter((m) => m.text.includes(link));
const stageIs = (number: string, stage: InvoiceState['stage']) => invoiceAt(s, number, stage);
const runsOf = async (number: string) => {
  const runs = [];
  for await (const wf of s.t.client.workflow.list({ query: `WorkflowId = '${invoiceWorkflowId(s.ops.companyId, number)}'` })) runs.push(wf.runId);
  return runs;
};
const portalInvoicesNumbered = async (number: string) => (await portal().listInvoicesUpdatedSince(0)).filter((i) => i.number === number);
const post = (lines = [{ description: 'Consulting', quantity: 2, unitPrice: '150.00', taxPercent: '8.25' }]) =>
  s.bc.admin.postInvoice({ customerNumber: 'C10000', lines });

/** The notification Business Central sends for an invoice, delivered once more to our endpoint. */
async function deliverNotificationAgain(invoiceId: string) {
  const [sub] = await s.deps.bc.listSubscriptions();
  const res = await axios.post(`${s.apiUrl}/webhooks/business-central`, {
    value: [
      {
        subscriptionId: sub!.subscriptionId,
        clientState: s.config.env.BC_WEBHOOK_CLIENT_STATE,
        expirationDateTime: sub!.expirationDateTime,
        resource: `api/v2.0/companies(${s.ops.companyId})/salesInvoices(${invoiceId})`,
        changeType: 'created',
        lastModifiedDateTime: new Date().toISOString(),
      },
    ],
  });
  expect(res.status).toBe(202);
  return res.data as { accepted: string[] };
}

beforeAll(async () => {
  s = await startStack();
  await registerPortalWebhooks(s.ops, s.deps.portals);
  await startServiceWorkflows(s.ops, s.deps.portals);
  await setOptIn(s.ops, ['C10000'], { optedIn: true, by: 'test' });
  await eventually(async () => (await s.deps.bc.listSubscriptions()).length > 0, 20000, 'the BC subscription');
}, 90000);
afterAll(async () => {
  await s?.close();
});

describe('life of an invoice: operations', () => {
  it('an invoice posted in the ERP is in the portal with the same total within 2 s of the notification', async () => {
    const postedAt = Date.now();
    const erp = post();
    const inPortal = await eventually(() => portal().findInvoiceByNumber(erp.number), 5000, 'the portal invoice');
    const ms = Date.now() - postedAt;
    process.stdout.write(`acceptance: invoice ${erp.number} in the portal ${ms} ms after the BC notification (limit 2000 ms)\n`);
    expect(inPortal.amount.minor).toBe(parseDecimal(erp.totalIncludingTax, 'USD'));
    expect(ms).toBeLessThan(2000);
    const st = await stageIs(erp.number, 'link_sent');
    await eventually(async () => (await linkMails(st.portal!.link)).length === 1, 5000, 'the link email');
    await eventually(async () => (await sms()).some((m) => m.body.includes(st.portal!.link)), 5000, 'the link SMS');
  });

  it('the sync runs as a local activity: no activity task goes through the server', async () => {
    const erp = post();
    await stageIs(erp.number, 'link_sent');
    const events = (await handle(erp.number).fetchHistory()).events ?? [];
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  });

  it('a sync the portal keeps refusing hands over to a regular activity, pending with its last failure, and completes once', async () => {
    s.portal.faults.configure({ errorRate: 1 });
    try {
      const erp = post();
      // The local attempts give up; the regular activity is what an operator sees in the Temporal UI.
      const pending = await eventually(async () => {
        const d = await handle(erp.number).describe();
        return d.raw.pendingActivities?.find((a) => a.activityType?.name === 'syncInvoice' && a.lastFailure);
      }, 40000, 'the syncInvoice activity pending after a failed attempt');
      expect(pending.lastFailure?.message ?? '').toContain('500');
      s.portal.faults.configure({ errorRate: 0 });
      const st = await stageIs(erp.number, 'link_sent');
      const events = (await handle(erp.number).fetchHistory()).events ?? [];
      expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name)).toEqual(['syncInvoice']);
      expect(await portalInvoicesNumbered(erp.number)).toHaveLength(1);
      await eventually(async () => (await linkMails(st.portal!.link)).length === 1, 5000, 'the link email');
      expect((await invoiceTimeline(s.ops, erp.number)).filter((e) => e.kind === 'synced')).toHaveLength(1);
    } finally {
      s.portal.faults.configure({ errorRate: 0 });
    }
  }, 90000);

  it('re-triggers are harmless: the notification again and startInvoices twice → one workflow run, one portal invoice, one link', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    expect((await deliverNotificationAgain(erp.id)).accepted).toEqual([`${erp.number}: accepted`]);
    const first = await startInvoices(s.ops, [erp.number, erp.number]);
    const second = await startInvoices(s.ops, [erp.number]);
    expect([...first, ...second].map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    await new Promise((r) => setTimeout(r, 500));
    expect(await runsOf(erp.number)).toHaveLength(1);
    expect(await portalInvoicesNumbered(erp.number)).toHaveLength(1);
    expect(await linkMails(st.portal!.link)).toHaveLength(1);
    const timeline = await invoiceTimeline(s.ops, erp.number);
    expect(timeline.filter((e) => e.kind === 'synced')).toHaveLength(1);
  });

  it('"Modify Sync Status" forgets the portal link and resyncs to the same portal invoice, without a second invoice or email', async () => {
    const erp = post();
    const before = await stageIs(erp.number, 'link_sent');
    expect(await resetInvoice(s.ops, erp.number, 'ops@cronus', 'portal id cleared by hand')).toEqual({ restarted: false });
    const after = await stageIs(erp.number, 'link_sent');
    expect(after.portal).toEqual(before.portal);
    const timeline = await invoiceTimeline(s.ops, erp.number);
    expect(timeline.map((e) => e.kind).filter((k) => k === 'synced' || k === 'reset')).toEqual(['synced', 'reset', 'synced']);
    expect(timeline.find((e) => e.kind === 'reset')).toMatchObject({ by: 'ops@cronus', detail: 'portal id cleared by hand' });
    expect(timeline.filter((e) => e.kind === 'synced').map((e) => e.detail)).toEqual(['created in the portal', 'found in the portal']);
    expect(await portalInvoicesNumbered(erp.number)).toHaveLength(1);
    expect(await linkMails(before.portal!.link)).toHaveLength(1);
    expect(await runsOf(erp.number)).toHaveLength(1);
  });

  it('"Modify Sync Status" after a card payment, with the portal failing: the invoice found is left as it is and the fee line is not drift', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    const { feeMinor } = await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: '50.00' }]);
    expect(feeMinor).toBeGreaterThan(0);
    await stageIs(erp.number, 'partially_paid');
    expect((await portal().getInvoice(st.portal!.invoiceId)).amount.minor).toBe(st.totalMinor + feeMinor);

    // The resync's create meets a 5xx first: its retry is refused the number, which is not taken for a new invoice
    // (whose lines would be "corrected" against a total that includes the fee).
    s.portal.faults.configure({ failNext: 3 });
    await resetInvoice(s.ops, erp.number, 'ops@cronus', 'resync after the card payment');
    const after = await eventually(async () => {
      const x = await invoiceState(s.ops, erp.number);
      return x.timeline.filter((e) => e.kind === 'synced').length === 2 && x;
    }, 10000, 'the resync');
    expect(s.portal.faults.settings.failNext).toBe(0);
    expect(after.attention).toBeNull();
    expect(after.stage).toBe('partially_paid');
    expect(after.timeline.filter((e) => e.kind === 'synced').map((e) => [e.amountMinor, e.detail])).toEqual([
      [st.totalMinor, 'created in the portal'],
      [st.totalMinor, 'found in the portal'],
    ]);
    const inv = await portal().getInvoice(st.portal!.invoiceId);
    expect(inv.amount.minor).toBe(st.totalMinor + feeMinor);
    expect(inv.balance.minor).toBe(st.totalMinor + feeMinor - 5000 - feeMinor);
  });

  it('an invoice the ERP does not know waits with reason unknown_invoice and can be cancelled by an operator', async () => {
    expect(await startInvoices(s.ops, ['PS-INV999999'])).toEqual([expect.objectContaining({ outcome: 'accepted' })]);
    const st = await stageIs('PS-INV999999', 'needs_attention');
    expect(st.attention).toEqual({ reason: 'unknown_invoice', detail: 'invoice PS-INV999999 does not exist in the ERP' });
    await cancelInvoice(s.ops, 'PS-INV999999', 'ops@cronus', 'typo');
    expect((await handle('PS-INV999999').result()).stage).toBe('cancelled');
    // No link with a made-up amount either: sending one for it fails for good, and nothing goes out.
    const before = (await mail('ap@adatum.example')).length;
    const portalLink = { connectionKey: 'default', clientId: 'x', invoiceId: 'x', invitationKey: 'x', link: 'http://portal.test/x' };
    await expect(
      createNotificationActivities(s.deps).sendInvoiceLink({ companyId: s.ops.companyId, invoiceNumber: 'PS-INV999999', customerNumber: 'C10000', portal: portalLink, sequence: 1 }),
    ).rejects.toMatchObject({ type: 'arsync:unknown_invoice', nonRetryable: true });
    expect((await mail('ap@adatum.example')).length).toBe(before);
  });

  it('cancelled in the ERP → cancelled in the portal, and the workflow ends cancelled', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    s.bc.admin.cancelInvoice(erp.number);
    const result = await handle(erp.number).result();
    expect(result.stage).toBe('cancelled');
    expect(result.timeline.at(-1)).toMatchObject({ kind: 'cancelled', by: 'erp', detail: 'cancelled in the ERP' });
    expect((await portal().getInvoice(st.portal!.invoiceId)).status).toBe('cancelled');
    const d = await handle(erp.number).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.typedSearchAttributes.get(Stage)).toBe('cancelled');
  });

  it('credited in full in the ERP (corrective credit memo) → cancelled in the portal, and the workflow ends cancelled', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    s.bc.admin.creditInvoice(erp.number);
    const result = await handle(erp.number).result();
    expect(result.stage).toBe('cancelled');
    expect(result.timeline.at(-1)).toMatchObject({ kind: 'cancelled', by: 'erp', detail: 'credited in the ERP' });
    expect((await portal().getInvoice(st.portal!.invoiceId)).status).toBe('cancelled');
  });

  it('cancelled by an operator → cancelled in the portal, the workflow ends, the ERP is untouched', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    await expect(cancelInvoice(s.ops, erp.number, 'ops@cronus', '')).rejects.toThrow(/reason/);
    const cancelled = await cancelInvoice(s.ops, erp.number, 'ops@cronus', 'duplicate invoice, re-issued');
    expect(cancelled.stage).toBe('cancelled');
    expect((await handle(erp.number).result()).stage).toBe('cancelled');
    expect((await portal().getInvoice(st.portal!.invoiceId)).status).toBe('cancelled');
    expect(s.bc.admin.getInvoice(erp.number).status).toBe('Open');
    const timeline = await invoiceTimeline(s.ops, erp.number).catch(() => null);
    // A completed workflow still answers queries.
    expect(timeline?.at(-1)).toMatchObject({ kind: 'cancelled', by: 'ops@cronus', detail: 'duplicate invoice, re-issued' });
  });

  it('an operator cancel is refused once money is on the invoice (a portal payment, an ERP payment): it is credited in the ERP instead', async () => {
    const erp = post([{ description: 'Consulting', quantity: 1, unitPrice: '80.00', taxPercent: '0' }]);
    const st = await stageIs(erp.number, 'link_sent');
    await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: '30.00' }]);
    await invoiceAt(s, erp.number, 'partially_paid', 15000);
    const refusal = `invoice ${erp.number} has 1 portal payment on it: a cancel here would leave that money on a cancelled invoice; credit the invoice in the ERP instead`;
    await expect(cancelInvoice(s.ops, erp.number, 'ops@cronus', 'wrong customer')).rejects.toMatchObject({ status: 409, message: refusal });

    // Paid in the ERP only: the entry the ERP watcher reports counts as much.
    const other = post([{ description: 'Consulting', quantity: 1, unitPrice: '60.00', taxPercent: '0' }]);
    const o = await stageIs(other.number, 'link_sent');
    s.bc.admin.recordPayment({ invoiceNumber: other.number, amount: '20.00' });
    await invoiceAt(s, other.number, 'partially_paid', 15000);
    await expect(cancelInvoice(s.ops, other.number, 'ops@cronus', 'wrong customer')).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(new RegExp(`^invoice ${other.number} has (1 ERP payment entry|an amount paid or credited in the ERP) on it`)),
    });

    await new Promise((r) => setTimeout(r, 500));
    for (const [number, p] of [[erp.number, st], [other.number, o]] as const) {
      const now = await invoiceState(s.ops, number);
      expect([now.stage, now.cancelled]).toEqual(['partially_paid', false]);
      expect(now.timeline.some((e) => e.kind === 'cancelled')).toBe(false);
      expect((await portal().getInvoice(p.portal!.invoiceId)).status).not.toBe('cancelled');
    }
  });

  it('"Modify Sync Status" of an ended invoice is refused once it was cancelled or posted, saying why: nothing is synced or sent again', async () => {
    const cancelled = post();
    const c = await stageIs(cancelled.number, 'link_sent');
    await cancelInvoice(s.ops, cancelled.number, 'ops@cronus', 'duplicate invoice');
    await handle(cancelled.number).result();
    const paid = post([{ description: 'Consulting', quantity: 1, unitPrice: '50.00', taxPercent: '0' }]);
    const p = await stageIs(paid.number, 'link_sent');
    await payOnPortal(s.portal.url, p.portal!.invitationKey, [{ invoiceId: p.portal!.invoiceId, amount: paid.totalIncludingTax }]);
    expect((await handle(paid.number).result()).stage).toBe('posted');
    await eventually(async () => (await linkMails(c.portal!.link)).length === 1 && (await linkMails(p.portal!.link)).length === 1, 5000, 'the link emails');
    const smsBefore = (await sms()).length;

    await expect(resetInvoice(s.ops, cancelled.number, 'ops2@cronus', 'try again')).rejects.toMatchObject({
      status: 409,
      message: `invoice ${cancelled.number} was cancelled (by ops@cronus): a reset would sync a cancelled invoice again; post a new invoice in the ERP instead`,
    });
    await expect(resetInvoice(s.ops, paid.number, 'ops2@cronus', 'checking')).rejects.toMatchObject({
      status: 409,
      message: `invoice ${paid.number} is posted (paid in full and settled in the ERP): there is nothing left to sync`,
    });
    await new Promise((r) => setTimeout(r, 1000));
    for (const [erp, st, stage] of [[cancelled, c, 'cancelled'], [paid, p, 'posted']] as const) {
      expect(await runsOf(erp.number)).toHaveLength(1);
      expect((await invoiceState(s.ops, erp.number)).stage).toBe(stage);
      expect(await linkMails(st.portal!.link)).toHaveLength(1);
    }
    expect((await sms()).length).toBe(smsBefore);
    expect((await portal().getInvoice(c.portal!.invoiceId)).status).toBe('cancelled');
  });

  it('a resync that finds its portal invoice cancelled in the portal waits for a person (portal_rejected) instead of reading it as paid', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    await portal().bulkInvoices('cancel', [st.portal!.invoiceId]);
    await resetInvoice(s.ops, erp.number, 'ops@cronus', 'portal id cleared by hand');
    const after = await stageIs(erp.number, 'needs_attention');
    expect(after.attention).toEqual({
      reason: 'portal_rejected',
      detail: `portal invoice ${erp.number} is cancelled in the portal: it is not synced; restore it there or cancel this invoice`,
    });
    expect(after.portal).toBeNull();
    expect(after.timeline.filter((e) => e.kind === 'synced')).toHaveLength(1);
    expect(await linkMails(st.portal!.link)).toHaveLength(1);
  });

  it('"Modify Sync Status" of a terminated run starts it again with its timeline and link sends, and records who reset it and why', async () => {
    const erp = post();
    const before = await stageIs(erp.number, 'link_sent');
    await eventually(async () => (await linkMails(before.portal!.link)).length === 1, 5000, 'the link email');
    await handle(erp.number).terminate('stuck');
    expect(await resetInvoice(s.ops, erp.number, 'ops@cronus', 'terminated by mistake')).toEqual({ restarted: true });
    const after = await eventually(async () => {
      const x = await invoiceState(s.ops, erp.number);
      return x.stage === 'link_sent' && x.timeline.filter((e) => e.kind === 'synced').length === 2 && x;
    }, 10000, 'the restarted run synced');
    expect(after.portal).toEqual(before.portal);
    expect(after.linkSends).toBe(before.linkSends);
    expect(after.timeline.map((e) => e.kind).filter((k) => k === 'synced' || k === 'reset')).toEqual(['synced', 'reset', 'synced']);
    expect(after.timeline.find((e) => e.kind === 'reset')).toMatchObject({ by: 'ops@cronus', detail: 'terminated by mistake' });
    expect(await runsOf(erp.number)).toHaveLength(2);
    const d = await handle(erp.number).describe();
    expect([d.typedSearchAttributes.get(Stage), d.typedSearchAttributes.get(CustomerNumber)]).toEqual(['link_sent', 'C10000']);
    // The customer has the link already; a send by hand is a new one (a new number, not deduplicated as the first).
    expect(await linkMails(before.portal!.link)).toHaveLength(1);
    expect(await sendLink(s.ops, erp.number, 'clerk@cronus', ['email'])).toMatchObject({ sent: ['email'] });
    await eventually(async () => (await linkMails(before.portal!.link)).length === 2, 5000, 'the second link email');
  });

  it('link sent again and copied, viewed, paid in full on the pay page → posted, the timeline tells it all, and the workflow completes', async () => {
    const erp = post([
      { description: 'Design', quantity: 3, unitPrice: '85.00', taxPercent: '8.25' },
      { description: 'Printing', quantity: 1, unitPrice: '19.99', taxPercent: '5' },
    ]);
    const total = parseDecimal(erp.totalIncludingTax, 'USD');
    const st = await stageIs(erp.number, 'link_sent');
    await eventually(async () => (await linkMails(st.portal!.link)).length === 1, 5000, 'the first link email');

    // Sending again really sends (sequence 2), and is recorded with who asked.
    expect(await sendLink(s.ops, erp.number, 'clerk@cronus', ['email'])).toEqual({ sent: ['email'], skipped: [], link: st.portal!.link });
    await eventually(async () => (await linkMails(st.portal!.link)).length === 2, 5000, 'the second link email');
    expect(await copyLink(s.ops, erp.number, 'clerk@cronus')).toEqual({ link: st.portal!.link });

    // Not in the same second as the portal invoice's last change: the watcher's cursor skips an invoice whose
    // updated_at second it has already seen.
    await new Promise((r) => setTimeout(r, 1100));
    await axios.get(st.portal!.link);
    await stageIs(erp.number, 'viewed');
    const { paymentId } = await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: erp.totalIncludingTax }]);
    const result = await handle(erp.number).result();
    expect(result.stage).toBe('posted');
    expect(result.erpRemainingMinor).toBe(0);
    expect(result.portalBalanceMinor).toBe(0);
    expect((await paymentState(s.ops, 'default', paymentId)).stage).toBe('posted');
    expect(parseDecimal(s.bc.admin.getInvoice(erp.number).remaining, 'USD')).toBe(0);
    const d = await handle(erp.number).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.typedSearchAttributes.get(Stage)).toBe('posted');
    // Paid in full: the payment's own read saw the portal at zero and the posting left the ERP at zero, so the invoice
    // settled without reading both sides again.
    const events = (await handle(erp.number).fetchHistory()).events ?? [];
    const told = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'paymentPosted');
    expect(told).toBeGreaterThan(0);
    expect(events.slice(told).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'readInvoiceBalances')).toEqual([]);

    const timeline = result.timeline;
    const of = (kind: string) => timeline.filter((e) => e.kind === kind);
    expect(of('link_sent').map((e) => [e.channel, e.by])).toEqual([
      ['email', 'system'],
      ['sms', 'system'],
      ['email', 'clerk@cronus'],
    ]);
    expect(of('link_sent').every((e) => e.amountMinor === total)).toBe(true);
    expect(of('link_copied')).toEqual([expect.objectContaining({ by: 'clerk@cronus', amountMinor: total })]);
    expect(of('viewed')).toHaveLength(1);
    expect(of('payment_made')).toEqual([expect.objectContaining({ amountMinor: total, detail: `portal payment ${paymentId}` })]);
    expect(of('posted')).toEqual([expect.objectContaining({ amountMinor: total })]);
    for (const e of timeline) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    const order = ['link_copied', 'viewed', 'payment_made', 'posted'].map((k) => timeline.findIndex((e) => e.kind === k));
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // Still one run; the notification for the paid invoice changes nothing now.
    await deliverNotificationAgain(erp.id);
    expect(await startInvoices(s.ops, [erp.number])).toEqual([expect.objectContaining({ outcome: 'completed' })]);
    expect(await runsOf(erp.number)).toHaveLength(1);
    // Staff heard of the first view once.
    expect((await mail()).filter((m) => m.subject === `Invoice ${erp.number} was viewed`)).toHaveLength(1);
  });

  it('two link sends asked for at once each take their own number: both go out by every channel, none is dropped as a repeat', async () => {
    const erp = post();
    const st = await stageIs(erp.number, 'link_sent');
    await eventually(async () => (await linkMails(st.portal!.link)).length === 1, 5000, 'the first link email');
    const smsOf = async () => (await sms()).filter((m) => m.body.includes(st.portal!.link)).length;
    await eventually(async () => (await smsOf()) === 1, 5000, 'the first link SMS');

    const answers = await Promise.all([sendLink(s.ops, erp.number, 'alice@cronus'), sendLink(s.ops, erp.number, 'bob@cronus')]);
    expect(answers.map((a) => a.sent)).toEqual([
      ['email', 'sms'],
      ['email', 'sms'],
    ]);
    await eventually(async () => (await linkMails(st.portal!.link)).length === 3 && (await smsOf()) === 3, 5000, 'both sends delivered');
    const after = await invoiceState(s.ops, erp.number);
    expect(after.linkSends).toBe(3);
    const sent = after.timeline.filter((e) => e.kind === 'link_sent' && e.by !== 'system').map((e) => `${e.by} ${e.channel}`);
    expect(sent.sort()).toEqual(['alice@cronus email', 'alice@cronus sms', 'bob@cronus email', 'bob@cronus sms']);
  });

  it('a channel refused for good does not stop the other: the link goes by the one left, and the timeline says why not by the other', async () => {
    const smsRefused = s.bc.admin.createCustomer({ displayName: 'Wide World Importers', email: 'ap@wideworld.example', phoneNumber: '+1 206 555 0181' });
    const mailRefused = s.bc.admin.createCustomer({ displayName: 'Tailspin Toys', email: 'gone@tailspin.example', phoneNumber: '+1 206 555 0182' });
    Object.assign(s.sinks.rules, { rejectSms: ['+12065550181'], rejectMail: ['gone@tailspin.example'] });
    try {
      await setOptIn(s.ops, [smsRefused.number, mailRefused.number], { optedIn: true, by: 'test' });
      const line = [{ description: 'Toys', quantity: 1, unitPrice: '40.00', taxPercent: '0' }];
      const a = s.bc.admin.postInvoice({ customerNumber: smsRefused.number, lines: line });
      const b = s.bc.admin.postInvoice({ customerNumber: mailRefused.number, lines: line });
      const sentBy = (st: InvoiceState) => st.timeline.filter((e) => e.kind === 'link_sent').map((e) => e.channel);
      const notBy = (st: InvoiceState) => st.timeline.filter((e) => e.kind === 'link_failed').map((e) => [e.channel, e.detail]);

      const stA = await stageIs(a.number, 'link_sent');
      expect(sentBy(stA)).toEqual(['email']);
      expect(notBy(stA)).toEqual([['sms', expect.stringMatching(/unsubscribed/)]]);
      expect((await mail('ap@wideworld.example')).filter((m) => m.text.includes(stA.portal!.link))).toHaveLength(1);

      const stB = await stageIs(b.number, 'link_sent');
      expect(sentBy(stB)).toEqual(['sms']);
      expect(notBy(stB)).toEqual([['email', expect.stringMatching(/550/)]]);
      expect((await sms()).filter((m) => m.to === '+12065550182' && m.body.includes(stB.portal!.link))).toHaveLength(1);

      // Asked again by an operator, by the refused channel only: nothing goes, and the answer says why.
      const again = await sendLink(s.ops, b.number, 'clerk@cronus', ['email']);
      expect(again).toEqual({ sent: [], skipped: [{ channel: 'email', reason: expect.stringMatching(/550/) }], link: stB.portal!.link });
    } finally {
      Object.assign(s.sinks.rules, { rejectSms: [], rejectMail: [] });
    }
  });

  it('the SMS provider down as the link goes out: the email is sent once, and the SMS alone is sent again until the provider is back', async () => {
    const c = s.bc.admin.createCustomer({ displayName: 'Fourth Coffee', email: 'ap@fourthcoffee.example', phoneNumber: '+1 206 555 0190' });
    await setOptIn(s.ops, [c.number], { optedIn: true, by: 'test' });
    const emails = async (link: string) => (await mail('ap@fourthcoffee.example')).filter((m) => m.text.includes(link));
    const texts = async (link: string) => (await sms()).filter((m) => m.to === '+12065550190' && m.body.includes(link));
    s.sinks.faults.configure({ errorRate: 1 });
    let link: string;
    const erp = s.bc.admin.postInvoice({ customerNumber: c.number, lines: [{ description: 'Coffee', quantity: 10, unitPrice: '12.00', taxPercent: '0' }] });
    const number = erp.number;
    try {
      const st = await stageIs(number, 'link_sent');
      link = st.portal!.link;
      expect(st.timeline.filter((e) => e.kind === 'link_sent').map((e) => e.channel)).toEqual(['email']);
      // Several attempts at the SMS meanwhile (each the client's own retries, then the activity's): none sends the email again.
      await new Promise((r) => setTimeout(r, 7000));
      expect(await emails(link)).toHaveLength(1);
      expect(await texts(link)).toHaveLength(0);
    } finally {
      s.sinks.faults.configure({ errorRate: 0 });
    }
    await eventually(async () => (await texts(link)).length === 1, 20000, 'the SMS once the provider is back');
    expect(await emails(link)).toHaveLength(1);
    const timeline = await eventually(async () => {
      const t = await invoiceTimeline(s.ops, number);
      return t.some((e) => e.kind === 'link_sent' && e.channel === 'sms') && t;
    }, 5000, 'the SMS in the timeline');
    expect(timeline.filter((e) => e.kind === 'link_sent').map((e) => e.channel)).toEqual(['email', 'sms']);
    expect(timeline.filter((e) => e.kind === 'link_failed')).toEqual([]);
  });

  it('on the real server a busy invoice hands over to a fresh run keeping its state and search attributes', async () => {
    // The notification starts the invoice as usual; that run is replaced by one with a low hand-over threshold (as a
    // run started by the starters, plus limits), so a few copies of the link are enough to make it hand over.
    const erp = post();
    await stageIs(erp.number, 'link_sent');
    await handle(erp.number).terminate('replaced by a run with a low hand-over threshold');
    await s.t.client.workflow.start(invoiceLifecycle, {
      taskQueue: s.ops.taskQueue,
      workflowId: invoiceWorkflowId(s.ops.companyId, erp.number),
      args: [{ companyId: s.ops.companyId, invoiceNumber: erp.number, limits: { maxHistoryEvents: 60 } }],
      typedSearchAttributes: [
        { key: InvoiceNumber, value: erp.number },
        { key: Stage, value: 'syncing' },
      ],
    });
    const st = await stageIs(erp.number, 'link_sent');
    for (let i = 0; i < 12; i++) await copyLink(s.ops, erp.number, `clerk-${i}`);
    const after = await eventually(async () => {
      const x = await invoiceState(s.ops, erp.number);
      return x.continuedAsNew >= 1 && x;
    }, 10000, 'a hand-over');
    expect(after.portal).toEqual(st.portal);
    expect(after.timeline.filter((e) => e.kind === 'link_copied')).toHaveLength(12);
    expect(after.timeline.filter((e) => e.kind === 'synced').map((e) => e.detail)).toEqual(['found in the portal']);
    const d = await handle(erp.number).describe();
    const runs = await eventually(async () => {
      const r = await runsOf(erp.number);
      // The terminated run, then every run of the replacement.
      return r.length === after.continuedAsNew + 2 && r;
    }, 5000, 'every run listed');
    expect(runs).toContain(d.runId);
    expect(d.historyLength).toBeLessThan(60);
    expect(d.typedSearchAttributes.get(InvoiceNumber)).toBe(erp.number);
    expect(d.typedSearchAttributes.get(CustomerNumber)).toBe('C10000');
    expect(d.typedSearchAttributes.get(Stage)).toBe('link_sent');
    // The fresh run still works: a payment still moves it.
    await payOnPortal(s.portal.url, st.portal!.invitationKey, [{ invoiceId: st.portal!.invoiceId, amount: '10.00' }]);
    await stageIs(erp.number, 'partially_paid');
    // The stage lists show the current run only: the terminated run and the handed-over ones ended at link_sent.
    const listed = await eventually(async () => {
      const rows = (await listInvoices(s.ops, { stage: 'partially_paid' })).filter((r) => r.invoiceNumber === erp.number);
      return rows.length === 1 && rows;
    }, 5000, 'the invoice listed at partially_paid');
    expect(listed[0]).toMatchObject({ runId: d.runId, status: 'RUNNING' });
    expect((await listInvoices(s.ops, { stage: 'link_sent' })).filter((r) => r.invoiceNumber === erp.number)).toEqual([]);
  });
});

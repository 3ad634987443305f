import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import type { Activities } from '../../activities';
import { subscriptionStateQuery, type bcSubscription } from '../../workflows/bcSubscription';
import { erpInvoiceChangedSignal, INVOICE_WORKFLOW_REVISION, invoiceStateQuery, invoiceViewedSignal, paymentPostedSignal, type invoiceLifecycle } from '../../workflows/invoiceLifecycle';
import type { InvoiceState, PortalLink } from '../../workflows/invoiceTypes';
import { useTimeSkipping } from '../support/timeSkipping';

// Long waits in skipped time, on the time-skipping test server: the Business Central subscription renewed before its
// 3-day expiry for weeks, and an invoice that lives for months (views, a payment; daily re-checks in revision 3, none
// in the current one) handing over to fresh runs with its state intact. The workflows are the real bundle; only here are activities plain stubs, because the
// time-skipping server cannot host the sandboxes' real time.

const DAY = 24 * 3_600_000;
let env!: TestWorkflowEnvironment;
useTimeSkipping((e) => (env = e));

/** The workflow time of the running activity (the test server's skipped clock). */
const workflowNow = () => Context.current().info.currentAttemptScheduledTimestampMs;

async function withWorker<T>(taskQueue: string, activities: Partial<Activities>, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: process.env.ARSYNC_WORKFLOW_BUNDLE! },
    activities,
  });
  return worker.runUntil(fn());
}

/** The portal invoice `in<n>` of client cl1, with its pay link. */
const portalLink = (n: number): PortalLink => ({ connectionKey: 'default', clientId: 'cl1', invoiceId: `in${n}`, invitationKey: `key${n}`, link: `http://portal.test/client/invoice/key${n}` });

/** Stub activities of an invoice of 100.00 whose ERP and portal are `world`; `ran` counts what the workflow ran. */
function invoiceStubs(
  portal: PortalLink,
  world: { remainingMinor: number; portalBalanceMinor: number; portalPayments: string[]; viewedAt: string | null; postedInErp?: string[] },
) {
  const ran = { syncs: [] as unknown[], staffNotified: 0, reads: 0 };
  const activities: Partial<Activities> = {
    // The whole sync in one activity (revision 3 on): ERP invoice, portal client, portal invoice, link sent.
    async syncInvoice({ invoiceNumber, link }) {
      ran.syncs.push(link);
      return {
        erp: { number: invoiceNumber, customerNumber: 'C10000', currency: 'USD', totalMinor: 10000, remainingMinor: world.remainingMinor, status: 'open', dueDate: '2030-01-31' },
        customer: { status: 'ready', connectionKey: 'default', clientId: 'cl1' },
        synced: { portal, portalTotalMinor: 10000, portalBalanceMinor: 10000, paidAtPostingMinor: 0, created: true, sendLinkOnSync: true },
        link: { sent: ['email'], skipped: [] },
      };
    },
    async notifyStaffOfView() {
      ran.staffNotified++;
    },
    async readInvoiceBalances({ postings }) {
      ran.reads++;
      return {
        erpRemainingMinor: world.remainingMinor,
        erpStatus: world.remainingMinor === 0 ? 'paid' : 'open',
        erpCredited: false,
        portalBalanceMinor: world.portalBalanceMinor,
        portalPaymentIds: world.portalPayments,
        portalViewedAt: world.viewedAt,
        ...(postings ? { erpPostedPaymentIds: world.postedInErp ?? [] } : {}),
      };
    },
    async cancelPortalInvoice() {},
  };
  return { activities, ran };
}


describe('in skipped time', () => {
  it('the BC subscription is renewed before every 3-day expiry for weeks, checked between renewals, kept when a renewal is refused, and recreated (with a catch-up) when Business Central dropped it', async () => {
    const renewals: Array<{ at: number; expiredAt: number; subscriptionId: string }> = [];
    let expiresAt = 0;
    let created = 0;
    const createdAt: number[] = [];
    const checks: Array<{ at: number; subscriptionId: string; alive: boolean }> = [];
    const catchUps: string[] = [];
    const catchUpAt: number[] = [];
    let refused = 0;
    let renewalRefusedAt = 0;
    const activities: Partial<Activities> = {
      async createBcSubscription() {
        created++;
        createdAt.push(workflowNow());
        expiresAt = workflowNow() + 3 * DAY;
        return { subscriptionId: `sub-${created}`, expiresAt: new Date(expiresAt).toISOString() };
      },
      // Between renewals: Business Central drops the second subscription a day after it refused to renew it.
      async bcSubscriptionAlive({ subscriptionId }) {
        const alive = !(subscriptionId === 'sub-2' && renewalRefusedAt > 0 && workflowNow() > renewalRefusedAt + DAY);
        checks.push({ at: workflowNow(), subscriptionId, alive });
        return alive;
      },
      // The second catch-up is refused once for good: it is tried again after the next wait, the subscription kept.
      async catchUpInvoices({ sinceIso }) {
        if (catchUps.length === 1 && !refused) {
          refused = workflowNow();
          throw ApplicationFailure.nonRetryable('The filter is not valid.', 'business-central:400');
        }
        catchUps.push(sinceIso);
        catchUpAt.push(workflowNow());
        return { invoices: 2, posted: 1 };
      },
      async renewBcSubscription({ subscriptionId }) {
        const at = workflowNow();
        // The fourth renewal finds the subscription deleted (its endpoint failed): it must be created again.
        if (renewals.length === 3 && subscriptionId === 'sub-1') return { status: 'gone' };
        // Once Business Central refuses a renewal outright (our endpoint failed the handshake): the subscription is kept
        // and renewed again a few minutes later.
        if (renewals.length === 5 && subscriptionId === 'sub-2' && !renewalRefusedAt) {
          renewalRefusedAt = at;
          throw ApplicationFailure.nonRetryable('The subscription cannot be renewed.', 'business-central:400');
        }
        renewals.push({ at, expiredAt: expiresAt, subscriptionId });
        expiresAt = at + 3 * DAY;
        return { status: 'renewed', expiresAt: new Date(expiresAt).toISOString() };
      },
    };
    await withWorker('ts-subscription', activities, async () => {
      const handle = await env.client.workflow.start<typeof bcSubscription>('bcSubscription', {
        taskQueue: 'ts-subscription',
        workflowId: 'bc-subscription:ts:salesInvoices',
        args: [{ companyId: 'ts', resource: 'salesInvoices', renewBeforeMs: 12 * 3_600_000, checkEveryMs: 6 * 3_600_000 }],
      });
      await env.sleep('24 days');
      const state = await handle.query(subscriptionStateQuery);
      // 24 days at one renewal every 2.5 days: nine renewals (some of them replaced by a new subscription).
      expect(renewals.length).toBeGreaterThanOrEqual(6);
      for (const r of renewals) {
        expect(r.at).toBeLessThan(r.expiredAt);
        // Twelve hours ahead, but for the one renewed again five minutes after a refusal.
        const late = r.at > renewalRefusedAt && r.at - renewalRefusedAt < 10 * 60_000 ? 6 * 60_000 : 60_000;
        expect(r.expiredAt - r.at).toBeGreaterThanOrEqual(12 * 3_600_000 - late);
      }
      // Never more than 6 hours without a word from Business Central: created, renewed (or refused) or checked.
      expect(checks.length).toBeGreaterThanOrEqual(50);
      const seen = [...createdAt, ...renewals.map((r) => r.at), renewalRefusedAt, ...checks.map((c) => c.at)].sort((a, b) => a - b);
      expect(Math.max(...seen.slice(1).map((t, i) => t - seen[i]!))).toBeLessThanOrEqual(6 * 3_600_000 + 60_000);
      // sub-1 gone at a renewal, sub-2 kept through a refused renewal and dropped a day later: three subscriptions, and
      // each new one after the first caught up from three hours before the last time its predecessor was seen alive.
      expect(created).toBe(3);
      expect(state).toMatchObject({ subscriptionId: 'sub-3', recreated: 2, catchUps: 2, lastError: null });
      expect(catchUps).toHaveLength(2);
      // The refused renewal: no new subscription, the same one renewed again five minutes later.
      expect(renewalRefusedAt).toBeGreaterThan(0);
      const retried = renewals.find((r) => r.at > renewalRefusedAt)!;
      expect(retried.subscriptionId).toBe('sub-2');
      expect(retried.at - renewalRefusedAt).toBeGreaterThanOrEqual(5 * 60_000 - 1000);
      expect(retried.at - renewalRefusedAt).toBeLessThanOrEqual(5 * 60_000 + 60_000);
      expect(createdAt.filter((t) => t > renewalRefusedAt && t < retried.at)).toEqual([]);
      // Dropped: a new subscription within a minute of the check that found it gone, catching up from three hours
      // before the check that last saw the old one.
      const dropSeen = checks.find((c) => !c.alive)!;
      expect(dropSeen.subscriptionId).toBe('sub-2');
      expect(createdAt[2]! - dropSeen.at).toBeLessThan(60_000);
      const lastAlive = checks.filter((c) => c.alive && c.subscriptionId === 'sub-2' && c.at < dropSeen.at).pop()!;
      expect(Math.abs(Date.parse(catchUps[1]!) - (lastAlive.at - 3 * 3_600_000))).toBeLessThan(60_000);
      expect(state.lastCatchUp).toEqual({ sinceIso: catchUps[1], invoices: 2, posted: 1 });
      // The refused catch-up ran again at the next check, about 6 hours later, on the same subscription.
      expect(refused).toBeGreaterThan(0);
      expect(catchUpAt[1]! - refused).toBeGreaterThanOrEqual(6 * 3_600_000 - 60_000);
      expect(catchUpAt[1]! - refused).toBeLessThanOrEqual(6 * 3_600_000 + 60_000);
      expect(Date.parse(state.expiresAt!)).toBeGreaterThan(await env.currentTimeMs());
      await handle.terminate('test done');
    });
  });

  it('a months-long invoice started by an older build re-checks daily until it hands over, then runs as the current revision (no timer) with its state: first view notified once, changed views only, ends posted', async () => {
    const portal = portalLink(1);
    // What the stubs read from "the ERP and the portal"; viewedAt is the portal invitation's viewed_date.
    const erp = { remainingMinor: 10000, portalBalanceMinor: 10000, portalPayments: [] as string[], viewedAt: null as string | null };
    const { activities, ran } = invoiceStubs(portal, erp);
    await withWorker('ts-invoice', activities, async () => {
      const handle = await env.client.workflow.start<typeof invoiceLifecycle>('invoiceLifecycle', {
        taskQueue: 'ts-invoice',
        workflowId: 'invoice:ts:PS-INV900001',
        // Revision 3 re-checks daily by a timer of its own (revision 4 leaves that to the drift sweep: next test).
        args: [{ companyId: 'ts', invoiceNumber: 'PS-INV900001', revision: 3, limits: { maxHistoryEvents: 150, recheckEveryMs: DAY } }],
      });
      await env.sleep('20 days');
      // Revision 3 read both sides every day until its history called for a fresh run, which is the current revision.
      const readsFirstRun = ran.reads;
      expect(readsFirstRun).toBeGreaterThanOrEqual(5);
      expect((await handle.query(invoiceStateQuery)).continuedAsNew).toBeGreaterThanOrEqual(1);
      erp.viewedAt = '2030-01-20 09:15:00';
      await handle.signal(invoiceViewedSignal, { viewedAt: '2030-01-20 09:15:00' });
      await env.sleep('25 days');
      const runsAfterFirstView = (await handle.query(invoiceStateQuery)).continuedAsNew;
      // The poller sends the same viewed_date again whenever the invoice changes: not a new view.
      await handle.signal(invoiceViewedSignal, { viewedAt: '2030-01-20 09:15:00' });
      await env.sleep('25 days');
      erp.viewedAt = '2030-03-02 17:40:00';
      await handle.signal(invoiceViewedSignal, { viewedAt: '2030-03-02 17:40:00' });
      await env.sleep('50 days');

      const state = await handle.query(invoiceStateQuery);
      // The fresh runs keep no re-check timer: nothing was read again in the 100 days since.
      expect(ran.reads).toBe(readsFirstRun);
      expect(state.continuedAsNew).toBeGreaterThanOrEqual(1);
      expect(runsAfterFirstView).toBeGreaterThanOrEqual(1);
      expect(state.stage).toBe('viewed');
      expect(state.timeline.filter((e) => e.kind === 'viewed').map((e) => e.at)).toEqual(['2030-01-20T09:15:00.000Z', '2030-03-02T17:40:00.000Z']);
      expect(state.timeline.filter((e) => e.kind === 'synced')).toHaveLength(1);
      expect(ran.syncs).toEqual([{ sequence: 1, sent: false, beforeReset: null }]);
      expect(ran.staffNotified).toBe(1);
      // The current run's history is small however long the invoice lives.
      const history = await handle.fetchHistory();
      expect(history.events!.length).toBeLessThan(220);
      process.stdout.write(`months-long invoice: ${ran.reads} daily re-checks in its first run, ${state.continuedAsNew} hand-overs, ${history.events!.length} events in the current run\n`);

      // Paid in full on the portal: posted once its payment is posted in the ERP; the workflow ends.
      erp.remainingMinor = 0;
      erp.portalBalanceMinor = 0;
      erp.portalPayments = ['pay-1'];
      await handle.signal(paymentPostedSignal, { paymentId: 'pay-1', amountMinor: 10000, erpRemainingMinor: 0 });
      const result = await handle.result();
      expect(result.stage).toBe('posted');
      expect(result.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['synced', 'link_sent', 'viewed', 'payment_made', 'posted']));
      expect(ran.staffNotified).toBe(1);
    });

  });

  it('a run restarted by a reset applies it once: the runs it hands over to do not forget the portal link again', async () => {
    const portal = portalLink(3);
    const erp = { remainingMinor: 10000, portalBalanceMinor: 10000, portalPayments: [] as string[], viewedAt: null as string | null };
    const { activities, ran } = invoiceStubs(portal, erp);
    await withWorker('ts-invoice-reset', activities, async () => {
      const handle = await env.client.workflow.start<typeof invoiceLifecycle>('invoiceLifecycle', {
        taskQueue: 'ts-invoice-reset',
        workflowId: 'invoice:ts:PS-INV900003',
        args: [{ companyId: 'ts', invoiceNumber: 'PS-INV900003', revision: INVOICE_WORKFLOW_REVISION, reset: { by: 'ops', why: 'resync' }, limits: { maxHistoryEvents: 60 } }],
      });
      // Views, each a little later, until the history asks for a fresh run (a few times).
      for (let day = 1; day <= 40; day++) {
        const viewedAt = `2030-01-${String((day % 28) + 1).padStart(2, '0')} 09:${String(day).padStart(2, '0')}:00`;
        erp.viewedAt = viewedAt;
        await handle.signal(invoiceViewedSignal, { viewedAt, staffNotified: true });
        await env.sleep('1 hour');
      }
      const state = await handle.query(invoiceStateQuery);
      expect(state.continuedAsNew).toBeGreaterThanOrEqual(1);
      expect(state.timeline.filter((e) => e.kind === 'reset')).toHaveLength(1);
      // Synced once, after the reset; never again because a handed-over run thought it was reset.
      expect(ran.syncs).toHaveLength(1);
      expect(state.portal?.invoiceId).toBe('in3');
      await handle.terminate('test done');
    });
  });

  /** An invoice of 100.00 that ended at posted knowing of one portal payment, `pay-1`. */
  const endedAtPosted = (invoiceNumber: string, portal: PortalLink): InvoiceState => ({
    companyId: 'ts', invoiceNumber, customerNumber: 'C10000', currency: 'USD', totalMinor: 10000, erpRemainingMinor: 0, portalBalanceMinor: 0,
    portal, stage: 'posted', attention: null, linkSent: true, viewed: false, cancelled: false, postedPayments: ['pay-1'], erpEntries: [], portalPayments: ['pay-1'],
    timeline: [{ at: '2030-01-02T00:00:00.000Z', kind: 'posted', amountMinor: 10000 }], lastViewedAt: null, linkSends: 1, continuedAsNew: 0,
  });
  /** Waits (real time, briefly) for the run to end; a run still running says its stage. */
  const ended = async (handle: WorkflowHandle<typeof invoiceLifecycle>) => {
    let d = await handle.describe();
    for (let i = 0; i < 100 && d.status.name === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = await handle.describe();
    }
    return { status: d.status.name, stage: d.status.name === 'RUNNING' ? (await handle.query(invoiceStateQuery)).stage : null };
  };

  it('reopened by a read made before it settled again, with portal payments whose signals found the run ended: it ends where it was, posted', async () => {
    const portal = portalLink(4);
    // The ended run settled on the first payment's answer (ERP and portal at zero); the other two payments of the same
    // posting told it nothing (it had ended). A watcher pass that read the ERP before the posting reopens it.
    const world = { remainingMinor: 0, portalBalanceMinor: 0, portalPayments: ['pay-1', 'pay-2', 'pay-3'], viewedAt: null as string | null, postedInErp: ['pay-1', 'pay-2', 'pay-3'] };
    const { activities, ran } = invoiceStubs(portal, world);
    await withWorker('ts-invoice-stale-reopen', activities, async () => {
      const handle = await env.client.workflow.start<typeof invoiceLifecycle>('invoiceLifecycle', {
        taskQueue: 'ts-invoice-stale-reopen',
        workflowId: 'invoice:ts:PS-INV900005',
        args: [{ companyId: 'ts', invoiceNumber: 'PS-INV900005', revision: INVOICE_WORKFLOW_REVISION, state: endedAtPosted('PS-INV900005', portal), reopen: { why: 'ERP watcher: 100.00 USD due again in the ERP' } }],
      });
      // Ended, not waiting: nothing would ever wake it (no payment is in flight, none will signal it).
      expect(await ended(handle)).toEqual({ status: 'COMPLETED', stage: null });
      const result = await handle.result();
      expect(result.stage).toBe('posted');
      expect(result.timeline.filter((e) => e.kind === 'reopened')).toEqual([]);
      expect(result.postedPayments).toEqual(['pay-1', 'pay-2', 'pay-3']);
      expect(ran.reads).toBe(1);
      expect(ran.syncs).toHaveLength(0);
    });
  });

  it('reopened with money due again, then settled again: the portal payments the ended run never heard posted do not hold it at paid', async () => {
    const portal = portalLink(6);
    // pay-2 was posted after the run ended (as an unapplied credit); then pay-1 was unapplied in the ERP: 100.00 due.
    const world = { remainingMinor: 10000, portalBalanceMinor: 0, portalPayments: ['pay-1', 'pay-2'], viewedAt: null as string | null, postedInErp: ['pay-1', 'pay-2'] };
    const { activities } = invoiceStubs(portal, world);
    await withWorker('ts-invoice-reopen-resettle', activities, async () => {
      const handle = await env.client.workflow.start<typeof invoiceLifecycle>('invoiceLifecycle', {
        taskQueue: 'ts-invoice-reopen-resettle',
        workflowId: 'invoice:ts:PS-INV900006',
        args: [{ companyId: 'ts', invoiceNumber: 'PS-INV900006', revision: INVOICE_WORKFLOW_REVISION, state: endedAtPosted('PS-INV900006', portal), reopen: { why: 'ERP: 100.00 USD due again' } }],
      });
      await env.sleep('1 minute');
      expect((await handle.query(invoiceStateQuery)).stage).toBe('paid');
      // Applied again in the ERP: the ERP watcher's signal; both sides settled, every payment the portal lists posted.
      world.remainingMinor = 0;
      await handle.signal(erpInvoiceChangedSignal, { reason: 'applied again in the ERP' });
      expect(await ended(handle)).toEqual({ status: 'COMPLETED', stage: null });
      expect((await handle.result()).stage).toBe('posted');
    });
  });

  it('a months-long invoice (current revision) waits without a timer: nothing runs until it is told, and a wake-up reads both sides', async () => {
    const portal = portalLink(2);
    const erp = { remainingMinor: 10000, portalBalanceMinor: 10000, portalPayments: [] as string[], viewedAt: null };
    const { activities, ran } = invoiceStubs(portal, erp);
    await withWorker('ts-invoice-4', activities, async () => {
      const handle = await env.client.workflow.start<typeof invoiceLifecycle>('invoiceLifecycle', {
        taskQueue: 'ts-invoice-4',
        workflowId: 'invoice:ts:PS-INV900002',
        args: [{ companyId: 'ts', invoiceNumber: 'PS-INV900002', revision: INVOICE_WORKFLOW_REVISION, limits: { maxHistoryEvents: 150 } }],
      });
      await env.sleep('60 days');
      const idle = await handle.fetchHistory();
      // Two months at link_sent: no timer, no read, nothing in history after the sync.
      expect(idle.events!.filter((e) => e.timerStartedEventAttributes)).toEqual([]);
      expect(ran.reads).toBe(0);
      expect((await handle.query(invoiceStateQuery)).stage).toBe('link_sent');
      const quietLength = idle.events!.length;

      // The watcher already told staff of this first view: the invoice does not again.
      await handle.signal(invoiceViewedSignal, { viewedAt: '2030-03-02 17:40:00', staffNotified: true });
      await env.sleep('30 days');
      expect(ran.staffNotified).toBe(0);
      expect((await handle.query(invoiceStateQuery)).stage).toBe('viewed');

      // Paid in full in the ERP, the notifications lost: the drift sweep's wake-up makes it read both sides.
      erp.remainingMinor = 0;
      erp.portalBalanceMinor = 0;
      erp.portalPayments = ['pay-9'];
      await handle.signal(erpInvoiceChangedSignal, { reason: 'drift sweep: the ERP has 0 due, the invoice 10000' });
      await env.sleep('1 day');
      expect(ran.reads).toBe(1);
      const state = await handle.query(invoiceStateQuery);
      expect(state.erpRemainingMinor).toBe(0);
      expect(state.stage).toBe('paid');
      const history = await handle.fetchHistory();
      expect(history.events!.filter((e) => e.timerStartedEventAttributes)).toEqual([]);
      expect(history.events!.length - quietLength).toBeLessThan(30);

      await handle.signal(paymentPostedSignal, { paymentId: 'pay-9', amountMinor: 10000, erpRemainingMinor: 0 });
      expect((await handle.result()).stage).toBe('posted');
    });
  });
});

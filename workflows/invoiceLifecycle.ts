import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SyncInvoiceInput } from '../activities/invoiceSync';
import type { LinkResult } from '../activities/notifications';
import type { AttentionReason, InvoiceAttentionReason } from '../src/domain/application';
import { nextInvoiceStage, type InvoiceStage } from '../src/domain/stages';
import { AmountDue, AttentionReason as AttentionReasonKey, CustomerNumber, Stage } from '../src/temporal/searchAttributes';
import {
  cancelInvoiceUpdate,
  copyLinkUpdate,
  customerNotReadySignal,
  customerReadySignal,
  driftDetectedSignal,
  erpApplicationSignal,
  erpInvoiceChangedSignal,
  invoiceStateQuery,
  invoiceTimelineQuery,
  invoiceViewedSignal,
  paymentPostedSignal,
  previewLinkQuery,
  resetSyncUpdate,
  sendLinkUpdate,
  type PaymentToInvoice,
} from './invoiceMessages';
import { withStateDefaults, type InvoiceState, type TimelineEvent } from './invoiceTypes';
import { failureMessage, failureType } from './failureInfo';
import { onceTimer } from './onceTimer';
import { HEARTBEAT_TIMEOUT } from './heartbeat';
import { countInvoiceStage, countLinkSent } from './metrics';

export * from './invoiceMessages';
export type { InvoiceState, TimelineEvent } from './invoiceTypes';

// One workflow per posted ERP invoice (id invoice:<company>:<number>): syncing → synced → link_sent → viewed →
// partially_paid → paid → posted, or cancelled / needs_attention. The workflow records facts from the ERP, the portal and
// the payment workflows; the stage rule itself lives in src/domain/stages.ts. An idle invoice waits without a timer
// (revision 4): the daily drift sweep wakes the ones whose indexed amount due the ERP no longer has (a missed
// notification); older runs re-read both balances once a day themselves. Long-lived invoices continue-as-new carrying
// their state, so history stays small for months.

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Revision 5: the sync first runs as a local activity, inside the workflow task that starts the invoice: no activity
// task round trip through the server (about 40 % less engine work per invoice, the same billed action). Two quick
// attempts within 5 s only: a local activity holds one of the worker's workflow-task slots while it runs, which every
// other workflow needs too, so a slow or failing sync hands over to the regular activity. That one shows in the
// Temporal UI as a pending activity with its last failure, retried with the usual backoff.
const quick = proxyLocalActivities<Activities>({
  scheduleToCloseTimeout: '5 seconds',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 2 },
});

const TIMELINE_LIMIT = 200;
/** The reasons an invoice waits on its customer for (the customer workflow's answers). */
const CUSTOMER_REASONS: readonly string[] = ['not_opted_in', 'missing_email', 'unknown_customer'];
const DEFAULT_MAX_HISTORY_EVENTS = 5000;
const DEFAULT_RECHECK_EVERY_MS = 24 * 3_600_000;

/**
 * 2: one re-check timer re-armed when it fires; the customer number may come with the start.
 * 3: the sync is one activity (`syncInvoice`: ERP read, portal client, portal invoice, link); a payment posted that the
 * latest read already saw in the portal is recorded without reading both sides again.
 * 4: no re-check timer while waiting for the customer: the drift sweep wakes an invoice that missed a notification
 * (a timer per open invoice per day was two billed actions a day each, with the re-read).
 * 5: `syncInvoice` runs as a local activity first and as a regular activity only when that fails.
 */
export const INVOICE_WORKFLOW_REVISION = 5;

export interface InvoiceLifecycleInput {
  companyId: string;
  invoiceNumber: string;
  /** The ERP customer when the starter knows it (indexed at start, which costs no upsert). */
  customerNumber?: string;
  /** The starter saw the ERP invoice posted (an `Open` one by its ledger entry): its sync need not ask again. */
  erpPosted?: true;
  /** Carried across continue-as-new, and from an ended run restarted by a reset. */
  state?: InvoiceState;
  /** "Modify Sync Status" of an ended run: this run carries its state (`state`) and starts by applying the reset. */
  reset?: { by: string; why: string };
  /**
   * A run that ended at posted, reopened by the ERP afterwards (a payment unapplied: money due again; credited or
   * cancelled while its portal invoice is open; `reopenEndedInvoice` in src/temporal/starters.ts): this run carries its
   * state (`state`), records why, reads both sides and goes on from there (the due stage, or the cancel). Only starts
   * made by that code carry it, so runs started before it replay as they ran, without a patch.
   */
  reopen?: { why: string };
  /**
   * Which behaviour this run was started with (absent: 1), carried across continue-as-new. Part of the input, so runs
   * started by an older build replay as they ran, without a patch marker (whose search-attribute upsert is billed).
   */
  revision?: number;
  /**
   * Tuning (tests lower these): history events before handing over to a fresh run; how often a parked invoice tries
   * again (before revision 4, also how often an idle one re-reads).
   */
  limits?: { maxHistoryEvents?: number; recheckEveryMs?: number };
}

type Event =
  | { type: 'viewed'; viewedAt: string; staffNotified?: boolean }
  | ({ type: 'paymentPosted' } & PaymentToInvoice)
  | { type: 'erpApplication'; entryNumber: number; amountMinor: number; kind: 'applied' | 'unapplied'; postedAt: string }
  | { type: 'erpChanged'; reason: string };

interface Request {
  by: string;
  why: string;
}

export async function invoiceLifecycle(input: InvoiceLifecycleInput): Promise<InvoiceState> {
  const state: InvoiceState = input.state
    ? withStateDefaults(input.state)
    : {
        companyId: input.companyId,
        invoiceNumber: input.invoiceNumber,
        customerNumber: input.customerNumber ?? null,
        currency: null,
        totalMinor: 0,
        erpRemainingMinor: null,
        portalBalanceMinor: null,
        portal: null,
        stage: 'syncing',
        attention: null,
        linkSent: false,
        viewed: false,
        cancelled: false,
        postedPayments: [],
        erpEntries: [],
        portalPayments: [],
        timeline: [],
        lastViewedAt: null,
        linkSends: 0,
        continuedAsNew: 0,
      };
  const maxHistory = input.limits?.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const recheckMs = input.limits?.recheckEveryMs ?? DEFAULT_RECHECK_EVERY_MS;
  const revision = input.revision ?? 1;
  /** Revision 3: the sync in one activity; revision 5: tried as a local activity first. */
  const oneActivity = revision >= 3;
  const localFirst = revision >= 5;
  const events: Event[] = [];
  let customerReady = false;
  let erpChanges = 0;
  /** The link before a reset: the customer already has it, so a resync that finds the same portal invoice sends nothing. */
  let linkBeforeReset: string | null = null;
  // Held in an object: requests are set by handlers between awaits, which flow analysis cannot see.
  const requests: { reset: Request | null; cancel: Request | null } = { reset: input.reset ?? null, cancel: null };
  // A restarted run is indexed afresh by its start (Stage syncing), not as the ended run left it.
  let lastIndexed = input.reset || input.reopen
    ? { stage: 'syncing' as InvoiceStage, attention: null as string | null, due: null as number | null }
    : { stage: state.stage, attention: state.attention?.reason ?? null, due: state.erpRemainingMinor };

  const record = (e: Omit<TimelineEvent, 'at'>, at = new Date().toISOString()) => {
    state.timeline.push({ at, ...e });
    if (state.timeline.length > TIMELINE_LIMIT) state.timeline.splice(0, state.timeline.length - TIMELINE_LIMIT);
  };

  /** Derives the stage from the facts and indexes what changed, in one search-attribute upsert. */
  const restage = (opts: { reset?: boolean } = {}) => {
    const previous = state.stage;
    const decision = nextInvoiceStage(
      state.stage,
      {
        totalMinor: state.totalMinor,
        erpRemainingMinor: state.erpRemainingMinor,
        portalBalanceMinor: state.portalBalanceMinor,
        portalSynced: state.portal !== null,
        linkSent: state.linkSent,
        viewed: state.viewed,
        paymentsPosted: state.postedPayments.length + state.erpEntries.length,
        paymentsUnposted: state.portalPayments.filter((id) => !state.postedPayments.includes(id)).length,
        cancelled: state.cancelled,
        // The stage rule only asks whether a reason is set; invoice-only reasons count like any other.
        attention: (state.attention?.reason ?? null) as AttentionReason | null,
      },
      opts,
    );
    state.stage = decision.stage;
    if (state.stage !== previous) countInvoiceStage(state.stage);
    // Wherever the move happens (the sync of an invoice paid meanwhile, a payment, an ERP application), once.
    if (state.stage === 'posted' && previous !== 'posted') record({ kind: 'posted', amountMinor: state.totalMinor });
    const now = { stage: state.stage, attention: state.attention?.reason ?? null, due: state.erpRemainingMinor };
    const changes = [
      ...(now.stage !== lastIndexed.stage ? [{ key: Stage, value: now.stage }] : []),
      ...(now.attention !== lastIndexed.attention ? [{ key: AttentionReasonKey, value: now.attention }] : []),
      ...(now.due !== lastIndexed.due && now.due !== null ? [{ key: AmountDue, value: now.due }] : []),
    ];
    if (changes.length) upsertSearchAttributes(changes as Parameters<typeof upsertSearchAttributes>[0]);
    lastIndexed = now;
  };
  /** Sets (or clears) the attention reason; the timeline records it once, not on every re-check that finds it again. */
  const setAttention = (reason: InvoiceAttentionReason | null, detail = '') => {
    const same = state.attention?.reason === reason && state.attention?.detail === detail;
    state.attention = reason ? { reason, detail } : null;
    if (reason && !same) record({ kind: 'attention', detail: `${reason}: ${detail}` });
    restage();
  };

  /** Records a link send (`sequence`) and what it reached; never moves the count back (sends may finish out of order). */
  const linkSendDone = (res: LinkResult, sequence: number, by: string) => {
    state.linkSends = Math.max(state.linkSends, sequence);
    for (const channel of res.sent) {
      record({ kind: 'link_sent', channel, by, amountMinor: state.erpRemainingMinor ?? undefined });
      countLinkSent(channel);
    }
    for (const s of res.skipped) record({ kind: 'link_failed', channel: s.channel, by, detail: s.reason });
    if (res.sent.length) state.linkSent = true;
    restage();
  };
  const linkActivity = (channels: Array<'email' | 'sms'> | undefined, sequence: number) =>
    acts.sendInvoiceLink({
      companyId: state.companyId,
      invoiceNumber: state.invoiceNumber,
      customerNumber: state.customerNumber!,
      portal: state.portal!,
      channels,
      sequence,
    });
  /**
   * The channels of a send that failed for a passing reason while another went out, sent again alone under the same
   * sequence (the same idempotency keys) by the retried activity: the channel that went out is not sent twice.
   */
  const sendRest = async (res: LinkResult, sequence: number, by: string): Promise<LinkResult> => {
    if (!res.retry?.length) return res;
    const rest = await linkActivity(res.retry.map((r) => r.channel), sequence);
    linkSendDone(rest, sequence, by);
    return { sent: [...res.sent, ...rest.sent], skipped: [...res.skipped, ...rest.skipped] };
  };
  const sendLink = async (channels: Array<'email' | 'sms'> | undefined, by: string) => {
    // Reserved before the first await: a send asked for meanwhile takes the next number (its own idempotency keys), so
    // the provider does not drop it as a repeat of this one.
    const sequence = ++state.linkSends;
    const res = await linkActivity(channels, sequence);
    linkSendDone(res, sequence, by);
    return sendRest(res, sequence, by);
  };

  setHandler(invoiceViewedSignal, (e) => void events.push({ type: 'viewed', ...e }));
  setHandler(paymentPostedSignal, (e) => void events.push({ type: 'paymentPosted', ...e }));
  setHandler(erpApplicationSignal, (e) => void events.push({ type: 'erpApplication', ...e }));
  setHandler(erpInvoiceChangedSignal, (e) => {
    erpChanges++;
    events.push({ type: 'erpChanged', ...e });
  });
  setHandler(driftDetectedSignal, ({ drift, detail }) => {
    if (drift && (state.attention?.reason !== 'drift' || state.attention.detail !== detail)) setAttention('drift', detail);
    else if (!drift && state.attention?.reason === 'drift') setAttention(null);
  });
  setHandler(customerReadySignal, () => {
    customerReady = true;
  });
  setHandler(customerNotReadySignal, ({ reason, detail }) => {
    // Only an invoice still parked on its customer takes the customer's current reason (nothing else to do: it waits on).
    if (!state.portal && state.attention && CUSTOMER_REASONS.includes(state.attention.reason)) setAttention(reason, detail);
  });
  setHandler(invoiceStateQuery, () => state);
  setHandler(invoiceTimelineQuery, () => state.timeline);
  setHandler(previewLinkQuery, () => (state.portal ? `${state.portal.link}${state.portal.link.includes('?') ? '&' : '?'}silent=true` : null));
  const requireSynced = () => {
    if (state.cancelled) throw new Error(`invoice ${state.invoiceNumber} is cancelled`);
    if (!state.portal) throw new Error(`invoice ${state.invoiceNumber} is not in the portal yet (stage ${state.stage})`);
  };
  setHandler(
    sendLinkUpdate,
    async ({ channels, by }) => {
      try {
        const res = await sendLink(channels, by);
        return { sent: res.sent, skipped: res.skipped, link: state.portal!.link };
      } catch (err) {
        // The caller learns why; the invoice carries on.
        throw ApplicationFailure.nonRetryable(`sending the link failed: ${failureMessage(err)}`, 'link_failed');
      }
    },
    { validator: ({ by }) => (requireSynced(), requireBy(by)) },
  );
  setHandler(
    copyLinkUpdate,
    ({ by }) => {
      record({ kind: 'link_copied', by, amountMinor: state.erpRemainingMinor ?? undefined });
      state.linkSent = true;
      restage();
      return { link: state.portal!.link };
    },
    { validator: ({ by }) => (requireSynced(), requireBy(by)) },
  );
  setHandler(
    resetSyncUpdate,
    async (r) => {
      requests.reset = r;
      await condition(() => requests.reset === null);
      return state;
    },
    {
      validator: ({ by, why }) => {
        requireBy(by);
        requireWhy(why);
        if (state.cancelled) throw new Error(`invoice ${state.invoiceNumber} is cancelled`);
      },
    },
  );
  setHandler(
    cancelInvoiceUpdate,
    async (r) => {
      requests.cancel = r;
      await condition(() => state.cancelled);
      return state;
    },
    {
      validator: ({ by, why }) => {
        requireBy(by);
        requireWhy(why);
        if (state.cancelled) throw new Error(`invoice ${state.invoiceNumber} is already cancelled`);
        const money = moneyOn(state);
        if (money) {
          throw new Error(
            `invoice ${state.invoiceNumber} has ${money} on it: a cancel here would leave that money on a cancelled invoice; credit the invoice in the ERP instead`,
          );
        }
      },
    },
  );

  /**
   * A customer view (from the portal watcher, or seen on a re-read): recorded when viewed_date changed; staff told once,
   * here unless the watcher told them already (`staffNotified`).
   */
  const onViewed = async (viewedAt: string, staffNotified = false) => {
    if (!isNewerView(viewedAt, state.lastViewedAt)) return;
    state.lastViewedAt = viewedAt;
    record({ kind: 'viewed', detail: `viewed at ${viewedAt}` }, isoOr(viewedAt));
    if (state.viewed) return;
    // Set before notifying: state carried across continue-as-new says it was done.
    state.viewed = true;
    if (staffNotified) return;
    await acts.notifyStaffOfView({ companyId: state.companyId, invoiceNumber: state.invoiceNumber, customerNumber: state.customerNumber, viewedAt });
  };

  const refreshFromErp = async (postings = false) => {
    const b = await acts.readInvoiceBalances({ companyId: state.companyId, invoiceNumber: state.invoiceNumber, portal: state.portal, ...(postings ? { postings } : {}) });
    if (b.erpRemainingMinor !== null) state.erpRemainingMinor = b.erpRemainingMinor;
    if (b.portalBalanceMinor !== null) state.portalBalanceMinor = b.portalBalanceMinor;
    if (b.portalPaymentIds !== null) state.portalPayments = b.portalPaymentIds;
    return b;
  };

  const cancel = async (by: string, why: string) => {
    if (state.portal) await acts.cancelPortalInvoice({ portal: state.portal, invoiceNumber: state.invoiceNumber });
    state.cancelled = true;
    state.attention = null;
    record({ kind: 'cancelled', by, detail: why });
    restage();
  };

  /** "Modify Sync Status": forget the portal link; the next sync finds (or recreates) the portal invoice. */
  const applyReset = () => {
    const r = requests.reset!;
    record({ kind: 'reset', by: r.by, detail: r.why });
    if (state.portal) linkBeforeReset = state.portal.link;
    state.portal = null;
    state.portalBalanceMinor = null;
    state.attention = null;
    restage({ reset: true });
    requests.reset = null;
  };

  /** Waits until something may have fixed what blocks the sync (or a day passed: the sync is simply tried again). */
  const waitForFix = async (customerToo: boolean) => {
    const seen = erpChanges;
    await condition(() => (customerToo && customerReady) || erpChanges > seen || requests.cancel !== null || requests.reset !== null, recheckMs);
    // Changes to the ERP invoice are re-read by the sync itself.
    for (let i = events.length - 1; i >= 0; i--) if (events[i].type === 'erpChanged') events.splice(i, 1);
  };

  /** The sync activity: local first from revision 5 (any failure hands over to the regular activity, which retries). */
  const syncInvoice = async (input: SyncInvoiceInput) => {
    if (localFirst) {
      try {
        return await quick.syncInvoice(input);
      } catch (err) {
        // A local activity's failure arrives as it was thrown (an ApplicationFailure, a TimeoutFailure), not wrapped
        // in an ActivityFailure; whatever it is, the regular activity retries it. Only a cancellation goes up.
        if (isCancellation(err)) throw err;
      }
    }
    return acts.syncInvoice(input);
  };

  /**
   * No link on sync for an invoice the ERP has nothing left on (paid or credited before it reached the portal): the
   * customer would be told 0.00 is due. Patched: runs from before sent one (in the sync activity or by its own).
   */
  const nothingDueGuard = () => state.erpRemainingMinor !== null && state.erpRemainingMinor <= 0 && patched('no-link-on-sync-when-nothing-due');

  /** ERP → portal: customer first, then the invoice; waits (needs_attention) while either cannot be synced. */
  const sync = async (): Promise<void> => {
    for (;;) {
      if (requests.cancel) return;
      if (requests.reset) applyReset();
      // Revision 3 runs every step in one activity; the steps' results are read below as the separate activities'.
      customerReady = false;
      const linkSequence = state.linkSends + 1;
      const all = oneActivity
        ? await syncInvoice({
            companyId: state.companyId,
            invoiceNumber: state.invoiceNumber,
            invoiceWorkflowId: workflowInfo().workflowId,
            link: { sequence: linkSequence, sent: state.linkSent, beforeReset: linkBeforeReset },
            ...(input.erpPosted ? { erpPosted: true as const } : {}),
          })
        : null;
      const erp = all ? all.erp : await acts.loadErpInvoice({ companyId: state.companyId, invoiceNumber: state.invoiceNumber });
      if (erp.status === 'unknown') {
        setAttention('unknown_invoice', `invoice ${state.invoiceNumber} does not exist in the ERP`);
        await waitForFix(false);
        continue;
      }
      if (!state.customerNumber) upsertSearchAttributes([{ key: CustomerNumber, value: erp.customerNumber }]);
      state.customerNumber = erp.customerNumber;
      state.currency = erp.currency;
      state.totalMinor = erp.totalMinor;
      state.erpRemainingMinor = erp.remainingMinor;
      if (erp.status === 'cancelled') return cancel('erp', 'cancelled or credited in the ERP');
      if (erp.status === 'draft') {
        setAttention('drift', 'the ERP invoice is not posted');
        await waitForFix(false);
        continue;
      }
      if (!all) customerReady = false;
      const customer =
        all?.customer ??
        (await acts.requestPortalClient({
          companyId: state.companyId,
          customerNumber: erp.customerNumber,
          invoiceWorkflowId: workflowInfo().workflowId,
        }));
      if (customer.status !== 'ready') {
        setAttention(customer.status, customer.detail);
        await waitForFix(true);
        continue;
      }
      // A permanent refusal (a mapping the rounding rule cannot make exact, a portal validation error) is parked.
      let rejected = all?.rejected ?? null;
      let synced = all?.synced ?? null;
      if (!all) {
        try {
          synced = await acts.syncInvoiceToPortal({
            companyId: state.companyId,
            invoiceNumber: state.invoiceNumber,
            connectionKey: customer.connectionKey,
            clientId: customer.clientId,
          });
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err;
          rejected = { type: failureType(err) ?? '', message: failureMessage(err) };
        }
      }
      if (rejected || !synced) {
        setAttention(rejected?.type === 'arsync:rounding' ? 'drift' : 'portal_rejected', rejected?.message ?? 'the sync returned no portal invoice');
        await waitForFix(false);
        continue;
      }
      if (linkBeforeReset !== null && synced.portal.link !== linkBeforeReset) state.linkSent = false;
      linkBeforeReset = null;
      state.portal = synced.portal;
      state.portalBalanceMinor = synced.portalBalanceMinor;
      record({ kind: 'synced', amountMinor: synced.portalTotalMinor, detail: synced.created ? 'created in the portal' : 'found in the portal' });
      if (synced.paidAtPostingMinor > 0 && !state.timeline.some((e) => e.kind === 'erp_payment' && e.detail === 'paid at posting')) {
        record({ kind: 'erp_payment', amountMinor: synced.paidAtPostingMinor, detail: 'paid at posting' });
      }
      if (synced.portalTotalMinor !== state.totalMinor) {
        setAttention('drift', `portal total ${synced.portalTotalMinor} differs from ERP total ${state.totalMinor}`);
        return;
      }
      state.attention = null;
      if (synced.sendLinkOnSync && !state.linkSent && !nothingDueGuard()) {
        const link = all?.link;
        if (link && 'failed' in link) record({ kind: 'link_failed', by: 'system', detail: link.failed });
        else {
          try {
            if (link) {
              linkSendDone(link, linkSequence, 'system');
              // Only when a channel waits to be sent again: every promise made in workflow code costs the SDK a stack capture.
              if (link.retry?.length) await sendRest(link, linkSequence, 'system');
            } else await sendLink(undefined, 'system');
          } catch (err) {
            if (!(err instanceof ActivityFailure)) throw err;
            record({ kind: 'link_failed', by: 'system', detail: failureMessage(err) });
          }
        }
      }
      restage();
      return;
    }
  };

  const handOverDue = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > maxHistory;

  if (!state.portal && !state.cancelled) await sync();

  if (input.reopen && !state.cancelled) {
    // Reopened by the ERP after it ended at posted: both sides read again, then the stage they say (money stages follow
    // the money back), or the cancel of the portal invoice when the ERP credited or cancelled it.
    // Portal payments posted after the ended run had ended told it nothing (their signals found no run): the read
    // asks the ERP which of the portal's payments it has, else they would count as waiting to be posted for ever.
    const b = await refreshFromErp(patched('reopen-reads-postings'));
    for (const id of b.erpPostedPaymentIds ?? []) if (!state.postedPayments.includes(id)) state.postedPayments.push(id);
    // Read by a job that started before the invoice settled again: nothing to reopen, the run ends where it was.
    const settled = b.erpStatus !== 'cancelled' && state.erpRemainingMinor === 0 && (state.portalBalanceMinor ?? 0) === 0;
    if (!settled) {
      record({ kind: 'reopened', by: 'erp', detail: input.reopen.why });
      // The whole amount due again: the ERP entries the ended run counted no longer pay it (the unapplication that
      // took them off may have gone to the ended run), and only the portal payments the portal still lists count.
      if (state.erpRemainingMinor === state.totalMinor) {
        state.erpEntries = [];
        if (b.portalPaymentIds !== null) state.postedPayments = state.postedPayments.filter((id) => b.portalPaymentIds!.includes(id));
      }
    }
    if (b.portalViewedAt) await onViewed(b.portalViewedAt);
    if (b.erpStatus === 'cancelled') await cancel('erp', b.erpCredited ? 'credited in the ERP' : 'cancelled in the ERP');
    else restage();
  }

  // Revisions 2-3: one re-check timer at a time, armed once and re-armed only when it fires (a timer per wait would
  // bill an action for every view or payment the invoice sees); revision 1 keeps a timer per wait; revision 4 none.
  const oneTimer = (input.revision ?? 1) >= 2;
  const timerless = revision >= 4;
  const recheck = onceTimer(recheckMs);

  while (!state.cancelled && state.stage !== 'posted') {
    const woken = () => events.length > 0 || requests.reset !== null || requests.cancel !== null || handOverDue();
    let due: boolean;
    if (timerless) {
      await condition(woken);
      due = false;
    } else if (oneTimer) {
      recheck.arm();
      await condition(() => recheck.due || woken());
      due = recheck.take();
    } else {
      due = !(await condition(woken, recheckMs));
    }
    if (requests.cancel) {
      const { by, why } = requests.cancel;
      await cancel(by, why);
      requests.cancel = null;
      break;
    }
    if (requests.reset) {
      applyReset();
      await sync();
      continue;
    }
    if (!due && events.length === 0) {
      // Hand over to a fresh run, unless a message arrived while the last handlers finished.
      await condition(allHandlersFinished);
      if (events.length === 0 && !requests.reset && !requests.cancel) {
        state.continuedAsNew++;
        // The reset or reopening was recorded and acted on by this run: the next one only carries the state.
        await continueAsNew<typeof invoiceLifecycle>({ ...input, state, reset: undefined, reopen: undefined, revision: INVOICE_WORKFLOW_REVISION });
      }
      continue;
    }
    if (!state.portal) {
      // Parked before reaching the portal (e.g. a total that differs): try the sync again.
      events.splice(0, events.length);
      await sync();
      continue;
    }
    let refresh = due;
    for (const e of events.splice(0, events.length)) {
      switch (e.type) {
        case 'viewed':
          await onViewed(e.viewedAt, e.staffNotified === true);
          break;
        case 'paymentPosted':
          if (e.event) {
            // Money the portal took that is not posted (yet, or any more): on the timeline; the balances say the stage.
            record({ kind: `payment_${e.event.kind}` as const, amountMinor: e.event.amountMinor, detail: e.event.detail });
            refresh = true;
            break;
          }
          if (e.amountMinor === 0) {
            // A reversal: the balances say what is left.
            refresh = true;
            break;
          }
          if (!state.postedPayments.includes(e.paymentId)) {
            state.postedPayments.push(e.paymentId);
            record({ kind: 'payment_made', amountMinor: e.amountMinor, detail: `portal payment ${e.paymentId}` });
          }
          if (e.erpRemainingMinor !== null) state.erpRemainingMinor = e.erpRemainingMinor;
          // The portal balance moved too (the payment came from there): read both sides once. Revision 3 skips the
          // read when this posting settles the invoice: the ERP has nothing left (a zero from a posting cannot be
          // stale; a reopening comes with a signal of its own) and either the payment's own read saw the portal
          // balance at zero, or the latest read here already listed this payment (it reads the payments before the
          // balance, so the balance it read includes them); every payment listed is posted now. A remaining amount
          // above zero may be older than another payment's, so it is read.
          const portalPaid = e.portalBalanceMinor === 0;
          const settled =
            revision >= 3 &&
            e.erpRemainingMinor === 0 &&
            (portalPaid || state.portalPayments.includes(e.paymentId)) &&
            state.portalPayments.every((id) => state.postedPayments.includes(id));
          if (settled && portalPaid) {
            state.portalBalanceMinor = 0;
            if (!state.portalPayments.includes(e.paymentId)) state.portalPayments.push(e.paymentId);
          }
          if (!settled) refresh = true;
          break;
        case 'erpApplication': {
          const known = state.erpEntries.indexOf(e.entryNumber);
          if (e.kind === 'applied' && known < 0) {
            state.erpEntries.push(e.entryNumber);
            // When arsync learned of it (the timeline's order); the ERP's posting date, a day without a time, in the detail.
            record({ kind: 'erp_payment', amountMinor: e.amountMinor, detail: `ERP entry ${e.entryNumber}, posted ${e.postedAt}` });
          } else if (e.kind === 'unapplied' && known >= 0) {
            state.erpEntries.splice(known, 1);
            record({ kind: 'erp_unapplied', amountMinor: e.amountMinor, detail: `ERP entry ${e.entryNumber}, posted ${e.postedAt}` });
          }
          refresh = true;
          break;
        }
        case 'erpChanged':
          refresh = true;
          break;
      }
    }
    if (refresh) {
      const b = await refreshFromErp();
      if (b.portalViewedAt) await onViewed(b.portalViewedAt);
      if (b.erpStatus === 'cancelled') {
        await cancel('erp', b.erpCredited ? 'credited in the ERP' : 'cancelled in the ERP');
        break;
      }
    }
    restage();
  }
  await condition(allHandlersFinished);
  return state;
}

/**
 * The payments an invoice carries, in words (null: none). An operator cancel is for invoices nobody paid; money on one
 * is the ERP's to credit (an ERP cancel or full credit memo ends the invoice here by itself).
 */
function moneyOn(state: InvoiceState): string | null {
  const portal = new Set([...state.postedPayments, ...state.portalPayments]).size;
  const erp = state.erpEntries.length;
  const parts = [portal ? `${portal} portal payment${portal > 1 ? 's' : ''}` : '', erp ? `${erp} ERP payment entr${erp > 1 ? 'ies' : 'y'}` : ''].filter(Boolean);
  if (parts.length) return parts.join(' and ');
  // Paid at posting, or an ERP entry the watcher has not told the workflow of yet.
  return state.erpRemainingMinor !== null && state.erpRemainingMinor < state.totalMinor ? 'an amount paid or credited in the ERP' : null;
}

/** A portal view is new when its viewed_date differs from, and is not older than, the newest one recorded. */
function isNewerView(viewedAt: string, last: string | null): boolean {
  if (last === null) return true;
  if (viewedAt === last) return false;
  const a = parseTime(viewedAt);
  const b = parseTime(last);
  return Number.isNaN(a) || Number.isNaN(b) ? true : a > b;
}

/** Invoice Ninja's "YYYY-MM-DD HH:mm:ss" (UTC) or an ISO time, in epoch milliseconds (NaN when neither). */
function parseTime(value: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(' ', 'T')}Z` : value);
}

/** A time from a message as ISO, else the workflow's now. */
function isoOr(value: string): string {
  const ms = parseTime(value);
  return Number.isNaN(ms) ? new Date().toISOString() : new Date(ms).toISOString();
}

function requireBy(by: string) {
  if (!by?.trim()) throw new Error('who is asking ("by") is required');
}
function requireWhy(why: string) {
  if (!why?.trim()) throw new Error('a reason ("why") is required');
}

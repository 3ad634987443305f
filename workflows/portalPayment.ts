import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities';
import type { JournalPostRequest, JournalPostResult, PaymentPostedNotice } from '../activities/journalTypes';
import type { AdjustmentMatch, ErpGeneralPosting, ErpPostingState, PaymentContext } from '../activities/paymentTypes';
import {
  ApplicationInputError,
  planApplication,
  planOutcome,
  postableParts,
  type ApplicationPlan,
  type AttentionReason,
  type FinanceResolutions,
  type PlanAttention,
} from '../src/domain/application';
import { planPartsReversal, type PartsReversal } from '../src/domain/reversal';
import { formatAmount as money } from '../src/domain/money';
import type { PaymentStage } from '../src/domain/stages';
import {
  AttentionReason as AttentionReasonKey,
  Currency,
  CustomerNumber,
  InvoiceNumber,
  InvoiceNumbers,
  PaymentAmount,
  PortalPaymentId,
  Stage,
} from '../src/temporal/searchAttributes';
import { failureMessage, failureType } from './failureInfo';
import { invoiceWorkflowId, journalPosterWorkflowId } from './ids';
import { paymentPostedSignal, type PaymentToInvoice } from './invoiceMessages';
import { enqueuePosting, journalPosted } from './journalPoster';
import { HEARTBEAT_TIMEOUT } from './heartbeat';
import { countPaymentStage } from './metrics';

// One workflow per portal payment (id payment:<connection>:<portal payment id>), started or signalled with
// signal-with-start by the poller and the webhook endpoint alike. The portal is re-read on every observation, so
// duplicate and out-of-order deliveries change nothing; the ERP posting is keyed by the portal payment id (the
// external document number), so a retry, a second run or a killed worker never posts twice. An observation that
// arrives while the workflow works (a void or refund right after posting) is looked at before the run ends.

export interface PaymentObservation {
  source: 'webhook' | 'poll' | 'manual';
  /** Invoice Ninja's updated_at (unix seconds) of what was observed. */
  updatedAt: number;
  event?: string;
}

export type ResolutionAction =
  | { action: 'apply_to_invoice'; invoiceNumber: string }
  | { action: 'post_unapplied' }
  | { action: 'treat_as_refund' }
  | { action: 'treat_as_adjustment'; partnerPaymentId: string }
  | { action: 'skip' }
  | { action: 'retry' };

export type Resolution = ResolutionAction & { by: string; why: string };

export interface PaymentDecision {
  at: string;
  by: string;
  why: string;
  action: string;
  detail?: string;
}

export interface PaymentState {
  connectionKey: string;
  paymentId: string;
  stage: PaymentStage;
  attention: { reason: AttentionReason; detail: string } | null;
  context: PaymentContext | null;
  plan: ApplicationPlan | null;
  posting: JournalPostResult | null;
  /** The latest reversal this workflow posted (a void or refund after posting, or an adjustment). */
  reversal: JournalPostResult | null;
  adjustmentPartner: string | null;
  /** Why the payment is where it is, in words (skipped, refunded, adjusted, reversed). */
  note: string | null;
  decisions: PaymentDecision[];
  observations: number;
  /** A re-post: the run that had ended with a reason finance decided on (its decision is the first in `decisions`). */
  repostOf?: { runId: string; stage: PaymentStage; reason: AttentionReason };
  /**
   * The newest portal updated_at this run was told of or read itself (every observation is followed by a fresh read
   * before the run ends): a finished run lets the starter skip a new run for a creation or poll it already covered.
   */
  seenUpdatedAt?: number;
}

export const paymentObserved = defineSignal<[PaymentObservation]>('paymentObserved');
/** From the customer's arbiter: this payment and `partnerPaymentId` are an adjustment pair. */
export const adjustmentPaired = defineSignal<[{ partnerPaymentId: string }]>('adjustmentPaired');
/** From the customer's arbiter: its answer to this (positive) payment's offer for pairing. */
export const adjustmentAnswered = defineSignal<[AdjustmentMatch]>('adjustmentAnswered');
export const resolvePayment = defineUpdate<PaymentState, [Resolution]>('resolvePayment');
export const paymentStateQuery = defineQuery<PaymentState>('paymentState');

/**
 * Backoff capped at 10 s: once an outage ends, every waiting payment tries again within seconds, not up to a minute
 * later. The extra attempts during an outage cost requests that the clients' rate limiter keeps within quota.
 */
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
});

export interface PortalPaymentInput {
  companyId: string;
  connectionKey: string;
  paymentId: string;
  /**
   * Which behaviour this run was started with (absent: 1). Part of the input, so it is in history: runs started by an
   * older build replay as they ran, without a patch marker (whose search-attribute upsert is a billed action).
   */
  revision?: number;
  /**
   * Finance's decision on a run of this payment that had ended with a reason (skipped `closed_invoice`, posted `over_cap`,
   * …), which this new run carries out (`src/operations/payments.ts` starts it; `repostDecision`). In the input, so in
   * history from the start; runs without it take none of its paths (no patch, no revision).
   */
  repost?: RepostDecision;
}

/** A decision finance took on an ended run, carried by the new run it starts (`PortalPaymentInput.repost`). */
export interface RepostDecision {
  resolution: Resolution;
  /** The ended run, its final stage and its reason. */
  runId: string;
  stage: PaymentStage;
  reason: AttentionReason;
  /** The invoices that reason was about (the closed invoices the run skipped, those its plan parked on). */
  invoiceNumbers: string[];
}

/**
 * 2: search attributes are indexed with the next stage change, none re-upserted at start; an update or delete event
 * that arrives during or after a read means one more look (two refunds in the same second are both seen).
 * 3: the read offers a positive payment to the customer's arbiter itself; 'classified' is indexed with the next stage
 * (applied, needs_attention, skipped), not on its own.
 * 4: the read offers it only while a negative payment of the customer waits for a partner (a negative payment asking
 * later brings the customer's positive payments from the portal with its question).
 * 5: a finance decision is taken only while a wait is there to take it; older runs keep one accepted while the previous
 * decision was being applied for their next wait.
 * 6: every invoice the payment touches is indexed on its own (`InvoiceNumbers`), with the payment's amount
 * (`PaymentAmount`, `Currency`), in the upserts the run makes anyway (older runs: patch `INVOICES_LISTED`).
 * 7: the invoices are told of a payment that waits to settle (pending) or for finance (parked), for their timeline and
 * stage; older runs tell them only of postings and reversals.
 */
export const PAYMENT_WORKFLOW_REVISION = 7;

/**
 * How a reversal made for an adjustment pair ends its description (either side writes the same words, naming the
 * negative payment): a void of that negative payment finds by it what the pair reversed.
 */
export function adjustmentReversalNote(negativePaymentId: string): string {
  return `adjustment with portal payment ${negativePaymentId}`;
}

/**
 * How the take-back of an adjustment pair's reversal ends its description, under the partner's own reversal key: the
 * release of a voided negative payment nets it against what the pair reversed (a retry finds nothing left to take back).
 */
export function adjustmentTakeBackNote(negativePaymentId: string): string {
  return `adjustment with portal payment ${negativePaymentId} voided`;
}

/** Whether a ledger entry's description is that of an adjustment pair's take-back (`adjustmentTakeBackNote`). */
export function isAdjustmentTakeBack(description: string): boolean {
  return /adjustment with portal payment \S+ voided$/.test(description);
}

/** A take-back's description: ends with the note the release looks for, whatever the ids' length (100 characters). */
function takeBackDescription(partnerId: string, negativePaymentId: string): string {
  const note = adjustmentTakeBackNote(negativePaymentId);
  return `${`Reversal of ${partnerId} taken back: `.slice(0, Math.max(0, 100 - note.length))}${note}`;
}

/** External document number of a payment's n-th reversal (n from 1): `<id>-R`, `<id>-R2`, … */
export function reversalKey(paymentId: string, n: number): string {
  return n <= 1 ? `${paymentId}-R` : `${paymentId}-R${n}`;
}

export async function portalPayment(input: PortalPaymentInput): Promise<PaymentState> {
  const state: PaymentState = {
    connectionKey: input.connectionKey,
    paymentId: input.paymentId,
    stage: 'staged',
    attention: null,
    context: null,
    plan: null,
    posting: null,
    reversal: null,
    adjustmentPartner: null,
    note: null,
    decisions: [],
    observations: 0,
    seenUpdatedAt: -1,
  };
  // A re-post: finance's decision on the ended run is the run's first, folded into its first plan once the portal and
  // the ERP are read (so a payment the ERP has already is never posted again). Null once taken.
  let carried: Resolution | null = input.repost?.resolution ?? null;
  if (input.repost) {
    const { resolution: r, runId, stage, reason } = input.repost;
    state.repostOf = { runId, stage, reason };
    state.decisions.push({ at: new Date().toISOString(), by: r.by, why: r.why, action: r.action, detail: `${describe(r)} (re-post of the run that ended ${stage}: ${reason})` });
  }
  const revision2 = (input.revision ?? 1) >= 2;
  const revision3 = (input.revision ?? 1) >= 3;
  const revision4 = (input.revision ?? 1) >= 4;
  const revision5 = (input.revision ?? 1) >= 5;
  const revision6 = (input.revision ?? 1) >= 6;
  const revision7 = (input.revision ?? 1) >= 7;
  /** Invoices told that this payment waits (revision 7): told again if it ends without reaching the ERP. */
  const toldWaiting = new Set<string>();
  let lastSeen = -1;
  let newestObserved = -1;
  let resolution: Resolution | null = null;
  let pairedWith: string | null = null;
  let arbiterAnswered = false;
  let submissions = 0;
  /** Whether this look at the payment has made its first plan (later plans read the ERP again). */
  let planned = false;
  const postingAnswers = new Map<string, JournalPostResult>();
  // Finance's decisions for the plan, kept for the whole run (a retry reads both systems again but keeps them).
  const resolutions: FinanceResolutions = {};
  let override: ResolutionAction | null = null;

  const seenChanges = new Set<string>();
  // Revision 2: whether an observation came in that the latest read may not cover. The read covers what came before
  // it; an update or delete event during or after it (a duplicate, or a second change in the same second: the
  // portal's clock has whole seconds) and anything newer than what it read mean one more look.
  let lookAgain = false;
  let readUpdatedAt = -1;
  setHandler(paymentObserved, (o) => {
    state.observations++;
    if ((o.event && o.event !== 'create_payment') || o.updatedAt > readUpdatedAt) lookAgain = true;
    // A newer updated_at is a change; so is an update/delete event not seen before at the same second (the portal's
    // clock has whole seconds). Duplicates, and the poller reporting what a webhook already did, are not.
    const change = o.event && o.event !== 'create_payment' ? `${o.event}@${o.updatedAt}` : null;
    const fresh = change !== null && !seenChanges.has(change);
    if (change) seenChanges.add(change);
    newestObserved = Math.max(newestObserved, o.updatedAt, fresh && newestObserved >= 0 ? lastSeen + 1 : -1);
    state.seenUpdatedAt = Math.max(state.seenUpdatedAt ?? -1, o.updatedAt);
  });
  setHandler(adjustmentPaired, ({ partnerPaymentId }) => {
    pairedWith ??= partnerPaymentId;
  });
  setHandler(adjustmentAnswered, (answer) => {
    arbiterAnswered = true;
    if (answer.decision === 'adjustment') pairedWith ??= answer.partnerPaymentId;
  });
  setHandler(journalPosted, ({ requestId, result }) => {
    postingAnswers.set(requestId, result);
  });
  setHandler(paymentStateQuery, () => state);
  // Finance decisions are taken one per wait: `awaitingDecision` is true only while waitForFinance waits, so a decision
  // is accepted only when one will take it. Each accepted decision has a number; its handler returns once the wait has
  // taken that many (never on a state that a later step may not bring back).
  let awaitingDecision = false;
  /** What the current wait can carry out when narrower than its reason's (a refused reversal or refund: retry or skip). */
  let waitActions: WaitActions | null = null;
  let decisionsAccepted = 0;
  /**
   * What the portal said when finance last skipped the payment (null: never). The skip holds for the rest of the run:
   * an observation during or after the wait (a duplicate event, a poll, a drift sweep) leads to one more read, acted
   * on only when the portal changed the payment since (see `skipHolds`).
   */
  let skippedOn: { portalStatus: PaymentContext['portalStatus'] | null; refundedMinor: number } | null = null;
  let decisionsTaken = 0;
  setHandler(
    resolvePayment,
    async (r) => {
      // Revision 5 takes a decision only while a wait is there to take it (its validator refuses the rest). Runs of an
      // older revision accepted one while the previous decision was being applied, and the next wait took it: their
      // histories replay only if such a decision is kept for that wait (validators do not run on replay).
      if (resolution || (!awaitingDecision && revision5)) return state;
      const ticket = ++decisionsAccepted;
      resolution = r;
      state.decisions.push({ at: new Date().toISOString(), by: r.by, why: r.why, action: r.action, detail: describe(r) });
      await condition(() => decisionsTaken >= ticket);
      return state;
    },
    {
      validator: (r) => {
        if (resolution || (!awaitingDecision && state.stage === 'needs_attention')) {
          const last = state.decisions[state.decisions.length - 1];
          throw new Error(
            `payment ${state.paymentId}: a decision was already taken${last ? ` (${last.action} by ${last.by})` : ''} and is being applied; decide again if the payment comes back to needs_attention`,
          );
        }
        validateResolution(state, r, waitActions);
      },
    },
  );

  // Search attributes waiting for the next stage change, so one upsert (one billed action) indexes both. Runs
  // of an older revision upsert at once, as they did.
  const indexOnce = revision2;
  let unindexed: SearchAttributeUpdatePair[] = [];
  const index = (pairs: SearchAttributeUpdatePair[]) => {
    unindexed = [...unindexed.filter((u) => !pairs.some((p) => p.key.name === u.key.name)), ...pairs];
    if (!indexOnce) flushIndex();
  };
  // Revision 6 (a run of an older revision: patch, taken where it first has them to index): each invoice the payment
  // touches and its amount, added to the run's next upsert, never one of their own (no billed action).
  let details: SearchAttributeUpdatePair[] = [];
  const detailsIndexed = new Map<string, string>();
  const touched: string[] = [];
  const indexDetails = (pairs: SearchAttributeUpdatePair[]) => {
    const changed = pairs.filter((p) => detailsIndexed.get(p.key.name) !== JSON.stringify(p.value));
    details = [...details.filter((d) => !changed.some((p) => p.key.name === d.key.name)), ...changed];
  };
  /** Invoices the payment touches (its portal invoices, an invoice finance applied it to): kept for the whole run. */
  const touch = (numbers: readonly (string | null)[]) => {
    const added = numbers.filter((n): n is string => !!n && !touched.includes(n));
    if (!added.length) return;
    touched.push(...added);
    indexDetails([{ key: InvoiceNumbers, value: [...touched] }]);
  };
  const flushIndex = () => {
    if (!unindexed.length) return;
    const extra = details.length && (revision6 || patched(INVOICES_LISTED)) ? details : [];
    upsertSearchAttributes([...unindexed, ...extra]);
    for (const d of extra) detailsIndexed.set(d.key.name, JSON.stringify(d.value));
    unindexed = [];
    details = [];
  };
  /** Something came in since the latest read that it may not have seen (revision 1: a newer updated_at or event). */
  const changedSinceRead = () => (revision2 ? lookAgain : newestObserved > lastSeen);

  /** `flush` false: indexed with the next stage change (a stage passed through within one step need not cost an upsert). */
  const setStage = (stage: PaymentStage, attention: PaymentState['attention'] = null, flush = true) => {
    const changed = stage !== state.stage || attention?.reason !== state.attention?.reason;
    state.stage = stage;
    state.attention = attention;
    if (changed) {
      countPaymentStage(stage, attention?.reason ?? null);
      index([
        { key: Stage, value: stage },
        { key: AttentionReasonKey, value: attention ? attention.reason : null },
      ]);
    }
    if (flush) flushIndex();
  };
  /** A decision the rules took, recorded like finance's (by arsync). */
  const decide = (action: string, why: string, detail?: string) => {
    state.note = why;
    state.decisions.push({ at: new Date().toISOString(), by: 'arsync', why, action, ...(detail ? { detail } : {}) });
  };
  /** Parks the payment for finance; null when an adjustment partner turned up meanwhile (the caller adjusts). */
  const waitForFinance = async (reason: AttentionReason, detail: string, wakeOnPartner = false, actions: WaitActions | null = null): Promise<Resolution | null> => {
    setStage('needs_attention', { reason, detail });
    waitActions = actions;
    awaitingDecision = true;
    await acts.notifyStaffOfPayment({ paymentId: input.paymentId, connectionKey: input.connectionKey, kind: 'needs_attention', reason, detail });
    // Revision 7: the invoices show that money came in and waits for finance, for a payment the ERP does not have (a refused reversal of a posted one is no money waiting).
    if (revision7 && !state.context?.erp.posted) await tellInvoicesOf(state.context?.invoiceNumbers ?? [], { kind: 'parked', amountMinor: state.context?.amountMinor ?? 0, detail: `portal payment ${input.paymentId} waits for finance (${reason})` });
    await condition(() => resolution !== null || (wakeOnPartner && pairedWith !== null));
    awaitingDecision = false; // until the next wait, another decision is refused (the stage still says needs_attention)
    const r = resolution;
    resolution = null;
    if (r) decisionsTaken++; // lets its Update handler return
    if (r?.action === 'skip') skippedOn = { portalStatus: state.context?.portalStatus ?? null, refundedMinor: state.context?.refundedMinor ?? 0 };
    return r;
  };
  /**
   * The ERP refused a reversal or a refund: what is owed is the same whatever finance says, so the wait takes only
   * retry (post it again) or skip (finance books it by hand); the application's actions would not be carried out.
   */
  const waitOnRefusal = (detail: string) => waitForFinance('erp_rejected', detail, false, REFUSED_REVERSAL_ACTIONS);
  /**
   * Enqueues a posting with the batch's journal poster and waits (durably) for its answer. Revision 3 signals a
   * running poster directly (one billed action, where an activity that signals costs two); the activity, which
   * starts the poster with the signal, is left for when that fails (no poster yet, an older run).
   */
  const submit = async (request: JournalPostRequest): Promise<JournalPostResult> => {
    const requestId = `${input.paymentId}:${workflowInfo().runId}:${++submissions}`;
    const replyTo = workflowInfo().workflowId;
    const batch = revision3 ? state.context?.journalBatch : undefined;
    let enqueued = false;
    if (batch) {
      try {
        await getExternalWorkflowHandle(journalPosterWorkflowId(input.companyId, batch)).signal(enqueuePosting, { requestId, replyTo, request });
        enqueued = true;
      } catch {
        // No poster running for the batch: the activity starts one.
      }
    }
    if (!enqueued) await acts.enqueueJournalPosting({ companyId: input.companyId, requestId, replyTo, request });
    await condition(() => postingAnswers.has(requestId));
    const result = postingAnswers.get(requestId)!;
    postingAnswers.delete(requestId);
    return result;
  };

  // PortalPaymentId and Stage 'staged' come with the start (observePayment): free, unlike an upsert.
  if (!indexOnce) upsertSearchAttributes([{ key: PortalPaymentId, value: input.paymentId }, { key: Stage, value: 'staged' }]);
  // A re-post is started with its decision, not an observation: it reads the payment at once.
  if (!input.repost) await condition(() => state.observations > 0);

  for (;;) {
    lastSeen = newestObserved;
    lookAgain = false;
    const takenBefore = decisionsTaken;
    const again = await pass();
    flushIndex();
    if (again) continue;
    // A positive payment paired after it was posted reverses its own posting (the negative partner may have
    // found it still unposted).
    if (pairedWith && state.stage === 'posted') await reverseForAdjustment(pairedWith);
    await condition(allHandlersFinished);
    // Something changed in the portal while we worked (a void, a refund): look again before finishing.
    if (changedSinceRead()) continue;
    // A run never ends waiting for finance: the attention list shows running runs only, so a decision a path could not
    // carry out would leave the payment in nobody's view. It is looked at again (and parks again if it must).
    if (state.stage === 'needs_attention' && patched('no-end-in-needs-attention')) {
      // A look that took no decision and left the payment parked with no wait of its own would only repeat itself
      // (one activity after another): it waits for a new observation or finance's retry or skip instead.
      if (decisionsTaken === takenBefore && patched(NEEDS_ATTENTION_WAITS)) {
        waitActions = LOOK_AGAIN_ACTIONS;
        awaitingDecision = true;
        await condition(() => resolution !== null || changedSinceRead());
        awaitingDecision = false;
        const r = resolution as Resolution | null;
        resolution = null;
        if (r) decisionsTaken++;
        if (r?.action === 'skip') {
          skippedOn = { portalStatus: state.context?.portalStatus ?? null, refundedMinor: state.context?.refundedMinor ?? 0 };
          setStage('skipped');
          await condition(allHandlersFinished);
          await releaseWaitingInvoices();
          return state;
        }
      }
      continue;
    }
    await releaseWaitingInvoices();
    return state;
  }

  /**
   * Revision 7: invoices told that this payment waits (to settle, or for finance) hear that it ended without reaching the
   * ERP (failed, voided, skipped), so they read their balances again instead of showing money that never came.
   */
  async function releaseWaitingInvoices() {
    if (!revision7 || toldWaiting.size === 0 || state.stage === 'posted' || state.context?.erp.posted) return;
    const why = state.note ? `: ${state.note}` : '';
    await tellInvoicesOf([...toldWaiting], { kind: 'ended', amountMinor: state.context?.amountMinor ?? 0, detail: `portal payment ${input.paymentId} ended ${state.stage} without reaching the ERP${why}` });
    toldWaiting.clear();
  }

  /**
   * Finance's earlier skip stands after this read. A later wait (a refused reversal finance retried) may have left the
   * stage at needs_attention: the skip ends the run skipped, not parked with no wait (older runs left the stage).
   */
  function skipStands(): false {
    if (state.stage === 'needs_attention' && patched(SKIP_STANDS_ENDS_SKIPPED)) {
      decide('skip', 'finance skipped this payment earlier and the portal has not changed it since');
      setStage('skipped');
    }
    return false;
  }

  /**
   * Invoice Ninja deletes a voided payment's links to its invoices (DeletePayment: its paymentables go), so a read after
   * the void has no invoices: the invoices to tell of the reversal and the gateway fee to plan it with are those of this
   * run's earlier read (a run started by the void gets the invoice numbers an earlier run indexed from the read itself).
   * Older runs went on with none.
   */
  function withInvoicesOfVoid(ctx: PaymentContext, earlier: PaymentContext | null): PaymentContext {
    // Only a posting has anything to reverse and invoices to tell.
    if (!ctx.erp.posted || (ctx.portalStatus !== 'voided' && ctx.portalStatus !== 'failed') || ctx.allocations.length > 0 || ctx.invoiceNumbers.length > 0) return ctx;
    const allocations = earlier?.allocations ?? [];
    const invoiceNumbers = earlier?.invoiceNumbers ?? [];
    if (allocations.length === 0 && invoiceNumbers.length === 0) return ctx;
    if (!patched('voided-keeps-invoices')) return ctx;
    return { ...ctx, allocations, invoiceNumbers };
  }

  /** One look at the payment as the portal and the ERP have it now. Returns true to look again. */
  async function pass(): Promise<boolean> {
    planned = false;
    // Everything told so far is covered by this read, whatever it finds (even that the payment does not exist).
    readUpdatedAt = Math.max(readUpdatedAt, state.seenUpdatedAt ?? -1);
    let ctx: PaymentContext;
    try {
      // Revision 3: the read offers a positive payment to the customer's arbiter; the answer may come before it returns.
      if (revision3) arbiterAnswered = false;
      ctx = await acts.resolvePaymentContext({
        companyId: input.companyId,
        connectionKey: input.connectionKey,
        paymentId: input.paymentId,
        ...(revision4 ? { offer: 'when_waiting' as const } : revision3 ? { offer: true } : {}),
      });
    } catch (err) {
      // A webhook or a hand-made start for an id the portal does not have (or no longer has): parked, never failed,
      // so finance sees it with its reason and closes it (skip) or reads the portal again (retry).
      if (!UNKNOWN_PAYMENT_FAILURES.includes(failureType(err) ?? '')) throw err;
      // Finance closed it already: the portal still not having it changes nothing.
      if (skippedOn && patched(FINANCE_SKIP_HOLDS)) return skipStands();
      if (carried?.action === 'skip') return skipCarried(`finance closed a payment the portal does not know: ${carried.why}`);
      const r = await waitForFinance('unknown_payment', `the portal does not know payment ${input.paymentId}: ${failureMessage(err)}`);
      if (r?.action !== 'skip') return true;
      decide('skip', `finance closed a payment the portal does not know: ${r.why}`);
      setStage('skipped');
      return false;
    }
    ctx = withInvoicesOfVoid(ctx, state.context);
    state.context = ctx;
    // What this read saw covers every observation up to its updated_at (see `seenUpdatedAt`).
    if (ctx.updatedAtSec !== undefined) {
      readUpdatedAt = Math.max(readUpdatedAt, ctx.updatedAtSec);
      state.seenUpdatedAt = Math.max(state.seenUpdatedAt ?? -1, ctx.updatedAtSec);
    }
    touch(ctx.invoiceNumbers);
    indexDetails([
      { key: PaymentAmount, value: ctx.amountMinor },
      { key: Currency, value: ctx.currency },
    ]);
    if (ctx.customerNumber || ctx.invoiceNumbers.length) {
      index([
        ...(ctx.customerNumber ? [{ key: CustomerNumber, value: ctx.customerNumber }] : []),
        ...(ctx.invoiceNumbers.length ? [{ key: InvoiceNumber, value: ctx.invoiceNumbers.join(',') }] : []),
      ]);
    }
    if (ctx.origin === 'erp') {
      if (state.stage !== 'skipped') decide('skip', 'recorded in the portal from the ERP: posting it back would count it twice');
      setStage('skipped');
      return false;
    }
    if (skippedOn && skipHolds(skippedOn, ctx) && patched(FINANCE_SKIP_HOLDS)) return skipStands();
    if (ctx.erp.posted) {
      // A re-post of a payment the ERP has (read by its external document number): nothing is posted again, whatever
      // finance decided; what the portal took back since is reversed as for any run.
      if (carried) carryOutOnPosting();
      return settleAfterPosting(ctx);
    }
    if (ctx.portalStatus === 'voided' || ctx.portalStatus === 'failed') {
      // A negative payment has no posting of its own when it was an adjustment, but it may have reversed its partner's.
      if (ctx.amountMinor < 0 && ctx.customerNumber && patched('release-voided-adjustment')) return releaseVoidedAdjustment(ctx);
      if (state.stage !== 'skipped') decide('skip', `the portal payment ${ctx.portalStatus === 'failed' ? 'failed' : 'was voided'} before posting: nothing posted`);
      setStage('skipped');
      return false;
    }
    if (ctx.portalStatus === 'pending') {
      const told = state.stage === 'pending';
      setStage('pending');
      // Revision 7: the invoices show that the portal took it, and that it waits to settle.
      if (revision7 && !told) await tellInvoicesOf(ctx.invoiceNumbers, { kind: 'pending', amountMinor: ctx.amountMinor, detail: `portal payment ${input.paymentId} of ${money(ctx.amountMinor, ctx.currency)} waits to settle` });
      // Bank payments settle in days: wake on the next observation, or re-read every 6 hours in case one was missed.
      await condition(changedSinceRead, '6 hours');
      return true;
    }
    if (ctx.amountMinor === 0) {
      decide('skip', 'a payment of zero: nothing to post');
      setStage('skipped');
      return false;
    }
    // A re-post finance skipped: nothing is posted, and the run ends without the reason.
    if (carried?.action === 'skip') return skipCarried(`finance skipped it when re-posting: ${carried.why}`);
    if (ctx.amountMinor < 0) return negative(ctx, takeForced());
    const net = ctx.amountMinor - ctx.refundedMinor;
    if (net <= 0) {
      decide('skip', 'refunded in the portal before it was posted: nothing to post');
      setStage('skipped');
      return false;
    }
    return positive(ctx, net);
  }

  /** Ends the run skipped on finance's re-posted skip (held against later reads like a skip taken in a wait). */
  function skipCarried(why: string): false {
    skippedOn = { portalStatus: state.context?.portalStatus ?? null, refundedMinor: state.context?.refundedMinor ?? 0 };
    carried = null;
    state.note = why;
    setStage('skipped');
    return false;
  }

  /** A re-post's decision for a negative payment: treat as a refund or as an adjustment (none for a run without one). */
  function takeForced(): ResolutionAction | undefined {
    const r = carried;
    carried = null;
    return r?.action === 'treat_as_adjustment' || r?.action === 'treat_as_refund' ? r : undefined;
  }

  /** A re-post of a payment the ERP has already: the decision is recorded as not carried out where it would post. */
  function carryOutOnPosting() {
    const r = carried!;
    carried = null;
    if (r.action === 'skip' || r.action === 'retry') {
      state.note = `the ERP has this payment's posting (${input.paymentId}): finance's ${describe(r)} leaves it as it is`;
      // A retry changes nothing finance has to know: an overpayment credited to the customer stays listed (skip clears it).
      if (r.action === 'retry' && input.repost?.reason === 'over_cap') state.attention = { reason: 'over_cap', detail: `as the run before it ended: ${state.note}` };
    } else {
      state.note = `the ERP has this payment's posting already (${input.paymentId}): finance's ${describe(r)} is not carried out, nothing is posted twice`;
    }
  }

  /** The ERP has this payment's posting: reverse what the portal took back since, and report. */
  async function settleAfterPosting(ctx: PaymentContext): Promise<boolean> {
    const e = ctx.erp;
    const gone = ctx.portalStatus === 'voided' || ctx.portalStatus === 'failed';
    if (ctx.amountMinor < 0) return settleRefundAfterPosting(ctx, gone);
    // The posting has more than a customer part (fee/excess lines, parts never posted): each part is taken back on its own.
    if (e.general && (e.general.feeLines.length > 0 || e.general.unclear || ctx.amountMinor > e.postedMinor) && patched('reverse-posted-parts')) {
      return settlePartsAfterPosting(ctx, gone, e.general);
    }
    const outstanding = e.postedMinor - e.reversedMinor;
    const owed = gone ? outstanding : Math.min(ctx.refundedMinor, e.postedMinor) - e.reversedMinor;
    const reversed = e.reversedMinor + Math.max(0, owed);
    const settle = () => {
      if (gone) setStage('skipped');
      else if (reversed >= e.postedMinor && ctx.refundedMinor > 0) setStage('refunded');
      else if (reversed >= e.postedMinor) setStage('adjusted');
      else setStage('posted', state.attention?.reason === 'over_cap' ? state.attention : null);
    };
    if (owed > 0) {
      // Revision 3: a fresh run says at once that the payment is in the ERP (indexed with the stage it settles at).
      if (revision3 && state.stage === 'staged') setStage('posted', null, false);
      const why = gone ? `voided in the portal after posting: posting reversed` : `refunded in the portal after posting: ${money(owed, ctx.currency)} reversed`;
      const result = await postReversal(input.paymentId, e, owed, ctx, why);
      if (result.status === 'rejected') {
        const r = await waitOnRefusal(`reversal ${result.code}: ${result.message}`);
        if (r?.action === 'skip') setStage('skipped');
        return r?.action === 'retry';
      }
      decide('reverse', why, `${result.externalDocumentNumber}: ${owed}`);
      // Revision 3: the stage goes with the decision, before the invoices are told.
      if (revision3) settle();
      await tellInvoicesOf(ctx.invoiceNumbers, { kind: 'reversed', amountMinor: owed, detail: `portal payment ${input.paymentId}: ${why}` });
    }
    settle();
    return false;
  }

  /**
   * A posted payment with a fee/excess part or a part never posted, voided or refunded in the portal since: the reversal
   * mirrors the lines that were posted (`src/domain/reversal.ts`: a refund comes off the never-posted part, the excess,
   * the customer part, then the gateway fee), in one posting under the next reversal key. What the rule cannot decide
   * waits for finance.
   */
  async function settlePartsAfterPosting(ctx: PaymentContext, gone: boolean, general: ErpGeneralPosting): Promise<boolean> {
    const e = ctx.erp;
    const plan: PartsReversal = general.unclear
      ? { kind: 'unclear', detail: general.unclear }
      : planPartsReversal({
          amountMinor: ctx.amountMinor,
          refundedMinor: ctx.refundedMinor,
          gone,
          customerPostedMinor: e.postedMinor,
          customerReversedMinor: e.reversedMinor,
          feeLines: general.feeLines,
          // The portal's gateway fee, as the read paired it with this payment (what the plan would take as fee).
          gatewayFeeMinor: ctx.allocations.reduce((sum, a) => sum + (a.feeMinor ?? 0), 0),
          feeReversedMinor: general.feeReversedMinor,
        });
    if (plan.kind === 'unclear') {
      const r = await waitForFinance('unclear_reversal', `${gone ? 'voided' : 'refunded'} in the portal after posting: ${plan.detail}`);
      if (r?.action !== 'skip') return true;
      decide('skip', `finance settles the reversal in the ERP: ${r.why}`);
      setStage('skipped');
      return false;
    }
    const settle = () =>
      gone ? setStage('skipped') : plan.complete ? setStage(ctx.refundedMinor > 0 ? 'refunded' : 'adjusted') : setStage('posted', state.attention?.reason === 'over_cap' ? state.attention : null);
    const feeMinor = plan.fees.reduce((sum, f) => sum + f.amountMinor, 0);
    if (plan.customerMinor + feeMinor > 0) {
      if (revision3 && state.stage === 'staged') setStage('posted', null, false);
      const why = gone ? 'voided in the portal after posting: posting reversed' : `refunded in the portal after posting: ${money(plan.customerMinor + feeMinor, ctx.currency)} reversed`;
      const description = `Reversal of portal payment ${input.paymentId}`;
      const result = await submit({
        externalDocumentNumber: reversalKey(input.paymentId, e.reversals + 1),
        postingDate: ctx.date,
        lines: [
          ...(plan.customerMinor > 0
            ? [{ kind: 'reversal' as const, customerNumber: ctx.customerNumber ?? e.customerNumber!, amountMinor: plan.customerMinor, currency: ctx.currency, description: `${description}: ${why}`.slice(0, 100) }]
            : []),
          ...plan.fees.map((f) => ({
            kind: 'fee_reversal' as const,
            customerNumber: ctx.customerNumber ?? e.customerNumber!,
            amountMinor: f.amountMinor,
            currency: ctx.currency,
            account: f.account,
            balancingAccount: f.balancingAccount,
            description: `${description} fee`.slice(0, 100),
          })),
        ],
      });
      state.reversal = result;
      if (result.status === 'rejected') {
        const r = await waitOnRefusal(`reversal ${result.code}: ${result.message}`);
        if (r?.action === 'skip') setStage('skipped');
        return r?.action === 'retry';
      }
      decide('reverse', why, `${result.externalDocumentNumber}: ${plan.customerMinor} from the customer, ${feeMinor} from the fee account`);
      settle();
      // Only the customer part changes what the invoices have left.
      if (plan.customerMinor > 0) {
        await tellInvoicesOf(ctx.invoiceNumbers, { kind: 'reversed', amountMinor: plan.customerMinor, detail: `portal payment ${input.paymentId}: ${why}` });
      }
    }
    settle();
    return false;
  }

  /** A refund (negative payment) the ERP has: a void in the portal since takes it back, once (`<id>-R`, crediting the customer). */
  async function settleRefundAfterPosting(ctx: PaymentContext, gone: boolean): Promise<boolean> {
    const e = ctx.erp;
    const owed = gone ? (e.paidOutMinor ?? 0) - e.reversedMinor : 0;
    if (owed <= 0 || !patched('reverse-voided-refund')) {
      setStage(gone && e.reversed ? 'skipped' : 'refunded');
      return false;
    }
    const why = 'voided in the portal after posting: refund reversed';
    const result = await postReversal(input.paymentId, e, owed, ctx, why, 'refund_reversal');
    if (result.status === 'rejected') {
      const r = await waitOnRefusal(`reversal ${result.code}: ${result.message}`);
      if (r?.action === 'skip') setStage('skipped');
      return r?.action === 'retry';
    }
    decide('reverse', why, `${result.externalDocumentNumber}: ${owed}`);
    setStage('skipped');
    return false;
  }

  /** A negative payment: an adjustment with a positive partner, else (after the window) a refund to the customer. */
  async function negative(ctx: PaymentContext, forced?: ResolutionAction): Promise<boolean> {
    if (!ctx.customerNumber) {
      const r = await waitForFinance('unknown_customer', 'the portal client of this negative payment has no ERP customer');
      if (r?.action === 'skip') {
        setStage('skipped');
        return false;
      }
      return true; // retry: read the portal again
    }
    let partner: string | null = forced?.action === 'treat_as_adjustment' ? forced.partnerPaymentId : null;
    if (!partner && forced?.action !== 'treat_as_refund') {
      for (;;) {
        const match = await acts.matchAdjustment({
          companyId: input.companyId,
          customerNumber: ctx.customerNumber,
          connectionKey: input.connectionKey,
          payment: matchable(ctx),
          // Revision 4: positive payments offer themselves only while one waits; the portal has them all.
          ...(revision4 ? { portalClientId: ctx.portalClientId } : {}),
        });
        if (match.decision === 'adjustment') {
          partner = match.partnerPaymentId;
          break;
        }
        if (match.decision === 'ambiguous') {
          const r = await waitForFinance('ambiguous_adjustment', `several payments could be the partner: ${match.candidates.join(', ')}`);
          if (r?.action === 'treat_as_adjustment') partner = r.partnerPaymentId;
          else if (r?.action === 'skip') {
            setStage('skipped');
            return false;
          }
          break;
        }
        if (match.decision !== 'wait') break;
        setStage('classified');
        // Wait for a partner until the window closes; the arbiter signals us if one arrives.
        await condition(() => pairedWith !== null, Math.max(0, match.untilMs - Date.now()));
        if (pairedWith) {
          partner = pairedWith;
          break;
        }
      }
    }
    if (partner) return adjustWith(partner, ctx);

    setStage('classified');
    const result = await submit({
      externalDocumentNumber: input.paymentId,
      postingDate: ctx.date,
      lines: [{ kind: 'refund', customerNumber: ctx.customerNumber, amountMinor: -ctx.amountMinor, currency: ctx.currency, description: `Portal refund ${input.paymentId}` }],
    });
    state.posting = result;
    if (result.status === 'rejected') {
      const r = await waitOnRefusal(`${result.code}: ${result.message}`);
      if (r?.action === 'skip') {
        setStage('skipped');
        return false;
      }
      return true;
    }
    decide(forced ? 'treat_as_refund' : 'refund', forced ? 'treated as a refund by finance: posted to the customer, unapplied' : 'no positive partner within the adjustment window: refund posted to the customer, unapplied');
    setStage('refunded');
    return false;
  }

  /**
   * A negative payment voided before posting: the arbiter releases its pair (the partner counts as unpaired again),
   * and what the pair reversed of the partner's posting is taken back under this payment's reversal key (`<id>-R`:
   * this payment never posts under its own key, so the key is free; a retry or a second run finds it posted). A
   * partner the pair kept out of the ERP is looked at again by the activity and posted on its own.
   */
  async function releaseVoidedAdjustment(ctx: PaymentContext): Promise<boolean> {
    // The partner this run paired with goes with the ask: the arbiter may no longer remember the pair (pruned, or forced
    // by finance), and the take-back is owed all the same. Older runs asked with the payment alone.
    const known = state.adjustmentPartner && patched('release-known-partner') ? state.adjustmentPartner : null;
    const released = await acts.releaseAdjustment({
      companyId: input.companyId,
      customerNumber: ctx.customerNumber!,
      connectionKey: input.connectionKey,
      paymentId: input.paymentId,
      ...(known ? { partnerPaymentId: known } : {}),
    });
    const partner = released.partnerPaymentId ?? state.adjustmentPartner;
    if (!partner) {
      if (state.stage !== 'skipped') decide('skip', `the portal payment ${ctx.portalStatus === 'failed' ? 'failed' : 'was voided'} before posting: nothing posted`);
      setStage('skipped');
      return false;
    }
    state.adjustmentPartner = partner;
    if (released.reversedMinor <= 0) {
      decide('skip', `voided in the portal: the adjustment pair with portal payment ${partner} is released, which reversed nothing of it`);
      setStage('skipped');
      return false;
    }
    // The take-back goes on the partner's own reversal sequence (`<partner>-R<n>`), so the partner's posting state nets
    // it against the reversal it undoes: a later pairing or void of the partner reverses it again. Older runs took it
    // back under this payment's `<id>-R`, which the partner's posting state never read.
    const onPartner = released.takeBackKey && patched('release-onto-partner-reversals') ? released.takeBackKey : null;
    const result = await submit({
      externalDocumentNumber: onPartner ?? reversalKey(input.paymentId, 1),
      postingDate: ctx.date,
      lines: [
        {
          // Credits the customer against the general batch's balancing account, as the partner's reversal debited it.
          kind: 'refund_reversal',
          customerNumber: released.customerNumber ?? ctx.customerNumber!,
          amountMinor: released.reversedMinor,
          currency: ctx.currency,
          description: onPartner
            ? takeBackDescription(partner, input.paymentId)
            : `Adjustment ${input.paymentId} voided: reversal of ${partner} taken back`.slice(0, 100),
        },
      ],
    });
    state.reversal = result;
    if (result.status === 'rejected') {
      const r = await waitOnRefusal(`taking back the reversal of ${partner}: ${result.code}: ${result.message}`);
      if (r?.action === 'skip') setStage('skipped');
      return r?.action === 'retry';
    }
    decide('reverse', `voided in the portal after its adjustment with portal payment ${partner}: that payment's reversal taken back`, `${result.externalDocumentNumber}: ${released.reversedMinor}`);
    setStage('skipped');
    return false;
  }

  /** This negative payment nets out with `partner`: reverse the partner's posting if it has one. */
  async function adjustWith(partner: string, ctx: PaymentContext): Promise<boolean> {
    state.adjustmentPartner = partner;
    const partnerPosting = await acts.findErpPosting({ paymentId: partner });
    const owed = Math.min(-ctx.amountMinor, partnerPosting.postedMinor - partnerPosting.reversedMinor);
    if (partnerPosting.posted && owed > 0) {
      const result = await postReversal(partner, partnerPosting, owed, ctx, adjustmentReversalNote(input.paymentId));
      if (result.status === 'rejected') {
        const r = await waitOnRefusal(`reversal of ${partner}: ${result.code}: ${result.message}`);
        if (r?.action === 'skip') setStage('skipped');
        return r?.action === 'retry';
      }
      decide('treat_as_adjustment', `adjustment pair with portal payment ${partner}: its posting was reversed`, result.externalDocumentNumber);
    } else {
      decide('treat_as_adjustment', `adjustment pair with portal payment ${partner}: nothing reaches the ERP`);
    }
    setStage('adjusted');
    return false;
  }

  /**
   * A positive payment that was paired after its posting: reverse it (the same key the partner would use). A refused
   * reversal waits for finance like every other (retry: read the posting and post again; skip: finance books it by
   * hand). Older runs ended posted with the refusal as attention that no decision could resolve.
   */
  async function reverseForAdjustment(partner: string) {
    state.adjustmentPartner = partner;
    for (;;) {
      const own = await acts.findErpPosting({ paymentId: input.paymentId });
      const owed = own.postedMinor - own.reversedMinor;
      if (owed > 0) {
        const result = await postReversal(input.paymentId, own, owed, state.context!, adjustmentReversalNote(partner));
        if (result.status === 'rejected') {
          const detail = `reversal for the adjustment with ${partner}: ${result.code}: ${result.message}`;
          if (!patched('adjustment-reversal-refusal-waits')) {
            setStage('posted', { reason: 'erp_rejected', detail });
            return;
          }
          const r = await waitOnRefusal(detail);
          if (r?.action === 'retry') continue;
          decide('skip', `finance books the reversal for the adjustment with portal payment ${partner} in the ERP: ${r?.why ?? ''}`);
          setStage('skipped');
          return;
        }
      }
      break;
    }
    decide('treat_as_adjustment', `adjustment pair with portal payment ${partner} after posting: posting reversed`);
    setStage('adjusted');
  }

  async function postReversal(
    paymentId: string,
    erp: ErpPostingState,
    amountMinor: number,
    c: PaymentContext,
    why: string,
    kind: 'reversal' | 'refund_reversal' = 'reversal',
  ): Promise<JournalPostResult> {
    const customer = c.customerNumber ?? erp.customerNumber;
    let result = await submit({
      externalDocumentNumber: reversalKey(paymentId, erp.reversals + 1),
      postingDate: c.date,
      lines: [{ kind, customerNumber: customer!, amountMinor, currency: c.currency, description: `Reversal of portal payment ${paymentId}: ${why}`.slice(0, 100) }],
    });
    // A key already posted with no customer entry is another posting's (a fee-only reversal): this customer line never
    // reached the ERP, so it is refused, not taken for done.
    if (result.status === 'already_posted' && result.entries.length === 0 && patched('reversal-key-taken-refused')) {
      result = {
        externalDocumentNumber: result.externalDocumentNumber,
        status: 'rejected',
        code: 'key_taken',
        message: `${result.externalDocumentNumber} is posted without a customer entry: the reversal of ${amountMinor} to the customer was not posted`,
      };
    }
    state.reversal = result;
    return result;
  }

  /** A positive payment: classified (adjustment or not), planned, posted, with finance in the loop. */
  async function positive(ctx: PaymentContext, net: number): Promise<boolean> {
    // Offered to the customer's arbiter (a negative payment may be waiting for it, or come later) before anything is
    // posted; the answer comes back by signal while the plan is made. Revision 3's read made the offer.
    if (!ctx.offered) {
      arbiterAnswered = !ctx.customerNumber || !!ctx.noPartnerWaiting;
      if (ctx.customerNumber && !ctx.noPartnerWaiting) {
        await acts.offerForMatching({ companyId: input.companyId, customerNumber: ctx.customerNumber, connectionKey: input.connectionKey, payment: matchable(ctx) });
      }
    }
    const adjusted = () => {
      state.adjustmentPartner = pairedWith;
      decide('treat_as_adjustment', `adjustment pair with portal payment ${pairedWith}: nothing reaches the ERP`);
      setStage('adjusted');
      return false;
    };
    // Revision 3: indexed with the next stage (applied, needs_attention, skipped): a stage passed on the way costs no
    // upsert of its own.
    setStage('classified', null, !revision3);
    // A re-post: finance's decision on the ended run goes into the first plan, for the invoices its reason was about.
    if (carried && input.repost) {
      const r = carried;
      carried = null;
      if (r.action === 'post_unapplied' || r.action === 'apply_to_invoice') {
        override = applyResolution(r, { reason: input.repost.reason, invoiceNumbers: input.repost.invoiceNumbers }, resolutions, revision7) ?? override;
      }
    }

    for (;;) {
      const plan = await buildPlan(ctx, net, resolutions, override);
      state.plan = plan;
      touch(plan.parts.map((p) => p.invoiceNumber));
      const outcome = planOutcome(plan);
      if (outcome.stage === 'needs_attention') {
        const r = await waitForFinance(plan.attention!.reason, plan.attention!.detail, true);
        if (!r) return adjusted();
        if (r.action === 'skip') {
          setStage('skipped');
          return false;
        }
        // Finance's decisions hold for the rest of the run; "retry" reads the portal and the ERP again.
        if (r.action === 'retry') return true;
        override = applyResolution(r, plan.attention, resolutions, revision7) ?? override;
        continue;
      }
      if (outcome.stage === 'skipped') {
        const detail = skippedDetail(plan);
        decide('skip', outcome.reason === 'closed_invoice' ? `paid to a closed invoice and "Post Payments for Closed Invoices" is off: ${detail}` : `nothing to post: ${detail}`);
        setStage('skipped', outcome.reason ? { reason: outcome.reason, detail } : null);
        return false;
      }
      const reported = outcome.reason ? { reason: outcome.reason, detail: skippedDetail(plan) } : null;
      await condition(() => arbiterAnswered || pairedWith !== null);
      if (pairedWith) return adjusted();
      setStage('applied', reported);
      // Revision 3: the poster tells staff of the payment with the group's commit (one activity for many payments).
      const request = toJournalRequest(plan, ctx, revision3 ? { connectionKey: input.connectionKey, paymentId: input.paymentId, amountMinor: net, currency: ctx.currency } : undefined);
      let result = await submit(request);
      state.posting = result;
      let decision: Resolution | null = null;
      while (result.status === 'rejected') {
        decision = await waitForFinance('erp_rejected', `${result.code}: ${result.message}`, true);
        if (!decision) return adjusted();
        if (decision.action === 'skip') {
          setStage('skipped');
          return false;
        }
        if (decision.action !== 'retry') break;
        // The same request again (a part Business Central took meanwhile is recognised, never posted twice).
        setStage('applied', reported);
        result = await submit(request);
        state.posting = result;
      }
      if (result.status === 'rejected') {
        override = applyResolution(decision!, plan.attention, resolutions, revision7) ?? override;
        continue;
      }
      setStage('posted', reported);
      await tellInvoices(plan, result);
      if (!result.staffNotified) {
        await acts.notifyStaffOfPayment({ paymentId: input.paymentId, connectionKey: input.connectionKey, kind: 'posted', amountMinor: net, currency: ctx.currency });
      }
      return false;
    }
  }

  async function buildPlan(c: PaymentContext, net: number, resolutions: FinanceResolutions, override: ResolutionAction | null): Promise<ApplicationPlan> {
    // Finance's invoice takes the payment as the portal's invoices did: the portal's gateway fee in it stays a fee.
    const feeMinor = Math.min(net, c.allocations.reduce((sum, a) => sum + (a.feeMinor ?? 0), 0));
    const allocations =
      override?.action === 'apply_to_invoice'
        ? [{ invoiceNumber: override.invoiceNumber, amountMinor: net, ...(feeMinor > 0 && patched(APPLY_KEEPS_FEE) ? { feeMinor } : {}) }]
        : override?.action === 'post_unapplied'
          ? []
          : c.allocations;
    // The first plan of a look uses the ERP invoices read with the payment; a re-plan (finance decided) reads again.
    const fresh = allocations === c.allocations && !planned ? c.erpInvoices : undefined;
    planned = true;
    // The customer's own payment method only matters when the payment's method maps to none (its code comes first).
    const lookup = fresh ?? (await acts.lookupErpInvoices({ numbers: allocations.map((a) => a.invoiceNumber), customerNumber: c.methodCode ? null : c.customerNumber }));
    const settings = { ...lookup.settings, paymentMethodCode: c.methodCode ?? lookup.settings.paymentMethodCode };
    try {
      return planApplication(
        { paymentId: input.paymentId, amountMinor: net, currency: c.currency, customerNumber: c.customerNumber, allocations, customerMethodCode: lookup.customerMethodCode ?? null },
        lookup.invoices,
        settings,
        resolutions,
      );
    } catch (err) {
      // Thrown in workflow code it would fail the workflow task, retried for ever and seen by nobody: finance decides.
      if (!(err instanceof ApplicationInputError) || !patched('payment-input-error-parks')) throw err;
      return {
        paymentId: input.paymentId,
        currency: c.currency,
        customerNumber: c.customerNumber,
        journalBatch: settings.journalBatch,
        externalDocumentNumber: input.paymentId,
        methodCode: settings.paymentMethodCode || null,
        balancingAccount: null,
        parts: [{ kind: 'held', amountMinor: net, invoiceNumber: null }],
        attention: { reason: 'invalid_allocation', detail: err.message, invoiceNumbers: [] },
      };
    }
  }

  async function tellInvoices(plan: ApplicationPlan, result: JournalPostResult) {
    if (result.status === 'rejected') return;
    const applied = new Map<string, number>();
    for (const part of postableParts(plan)) {
      if (part.kind === 'applied') applied.set(part.invoiceNumber, (applied.get(part.invoiceNumber) ?? 0) + part.amountMinor);
    }
    for (const [invoiceNumber, amountMinor] of applied) {
      await signalInvoice(invoiceNumber, {
        paymentId: input.paymentId,
        amountMinor,
        erpRemainingMinor: result.invoiceRemaining[invoiceNumber] ?? null,
        portalBalanceMinor: state.context?.portalBalances?.[invoiceNumber] ?? null,
      });
    }
  }

  /** Tells the invoices what happened to a payment that is not posted (yet, or any more). */
  async function tellInvoicesOf(invoiceNumbers: readonly string[], event: NonNullable<PaymentToInvoice['event']>) {
    for (const n of invoiceNumbers) {
      // Several invoices: each its own part (what the portal allocated to it); a reversal's share is not known per invoice.
      const own = state.context?.allocations.find((a) => a.invoiceNumber === n)?.amountMinor;
      const amountMinor = invoiceNumbers.length === 1 ? event.amountMinor : event.kind === 'reversed' ? undefined : own;
      await signalInvoice(n, undefined, { kind: event.kind, detail: event.detail, ...(amountMinor !== undefined ? { amountMinor } : {}) });
      if (event.kind === 'pending' || event.kind === 'parked') toldWaiting.add(n);
    }
  }

  async function signalInvoice(
    invoiceNumber: string,
    posted?: { paymentId: string; amountMinor: number; erpRemainingMinor: number | null; portalBalanceMinor: number | null },
    event?: PaymentToInvoice['event'],
  ) {
    try {
      await getExternalWorkflowHandle(invoiceWorkflowId(input.companyId, invoiceNumber)).signal(
        paymentPostedSignal,
        posted ?? { paymentId: input.paymentId, amountMinor: 0, erpRemainingMinor: null, ...(event ? { event } : {}) },
      );
    } catch {
      // The invoice was not synced by us (or its workflow has ended): the drift sweep reconciles it.
    }
  }
}

/** Patch id: a payment finance skipped is not parked again by an observation that changed nothing in the portal. */
const FINANCE_SKIP_HOLDS = 'finance-skip-holds';
/** Patch id: a payment finance applied to another invoice keeps its gateway fee on the fee account. */
const APPLY_KEEPS_FEE = 'apply-keeps-gateway-fee';

/**
 * Whether finance's skip still stands after a new read: for a payment the ERP does not have, unless the portal voided it
 * since (nothing to post; a negative payment's adjustment pair is released as usual); for one the ERP has, unless the
 * portal voided or refunded more of it since (a reversal is owed).
 */
function skipHolds(skippedOn: { portalStatus: PaymentContext['portalStatus'] | null; refundedMinor: number }, c: PaymentContext): boolean {
  if (!c.erp.posted) return c.portalStatus !== 'voided' && c.portalStatus !== 'failed';
  return c.portalStatus === skippedOn.portalStatus && c.refundedMinor === skippedOn.refundedMinor;
}

/**
 * Patch id: a run of revision 5 or older indexes every invoice it touches on its own (`InvoiceNumbers`) and its amount
 * (`PaymentAmount`, `Currency`) with its next upsert, as revision 6 does (which takes no patch marker).
 */
const INVOICES_LISTED = 'invoices-listed';

/** Patch id: finance's skip that still holds after a later wait ends the run skipped, not left in needs_attention. */
const SKIP_STANDS_ENDS_SKIPPED = 'finance-skip-ends-skipped';

/** Patch id: the no-end-in-needs-attention safety net waits for an observation or a decision instead of looking again at once. */
const NEEDS_ATTENTION_WAITS = 'needs-attention-waits';

/** How the portal answers a read of a payment it does not have (activities/failures.ts types). */
const UNKNOWN_PAYMENT_FAILURES = ['invoice-ninja:not_found', 'invoice-ninja:route_not_found'];

function matchable(c: PaymentContext) {
  return { paymentId: c.paymentId, amountMinor: c.amountMinor, currency: c.currency, atMs: c.createdAtMs };
}

function describe(r: Resolution): string {
  switch (r.action) {
    case 'apply_to_invoice':
      return `apply to invoice ${r.invoiceNumber}`;
    case 'treat_as_adjustment':
      return `adjustment of payment ${r.partnerPaymentId}`;
    default:
      return r.action.replace(/_/g, ' ');
  }
}

type WaitActions = { actions: ReadonlyArray<ResolutionAction['action']>; what: string };

/** A refused reversal or refund (reason erp_rejected): only these are carried out by the paths that wait for it. */
const REFUSED_REVERSAL_ACTIONS: WaitActions = { actions: ['retry', 'skip'], what: 'the ERP refused a reversal or refund' };

/** A payment left in needs_attention by a look that has nothing more to do: read again (retry) or close it (skip). */
const LOOK_AGAIN_ACTIONS: WaitActions = { actions: ['retry', 'skip'], what: 'the payment is waiting to be looked at again' };

/**
 * Which resolutions make sense for which reason: anything else is rejected before it reaches history. erp_rejected's
 * are those of a refused application; a refused reversal or refund waits with REFUSED_REVERSAL_ACTIONS.
 */
const ALLOWED: Record<AttentionReason, ReadonlyArray<ResolutionAction['action']>> = {
  unknown_invoice: ['apply_to_invoice', 'post_unapplied', 'skip', 'retry'],
  unknown_customer: ['skip', 'retry'],
  currency_mismatch: ['post_unapplied', 'skip', 'retry'],
  ambiguous_adjustment: ['treat_as_adjustment', 'treat_as_refund', 'skip'],
  closed_invoice: ['post_unapplied', 'apply_to_invoice', 'skip', 'retry'],
  over_cap: ['apply_to_invoice', 'post_unapplied', 'skip', 'retry'],
  erp_rejected: ['retry', 'post_unapplied', 'apply_to_invoice', 'skip'],
  missing_email: ['retry'],
  drift: ['retry', 'skip'],
  unknown_payment: ['retry', 'skip'],
  invalid_allocation: ['post_unapplied', 'apply_to_invoice', 'skip', 'retry'],
  unclear_reversal: ['retry', 'skip'],
};

/** Every decision, on a running or an ended run, names who decides and why. */
function requireWhoAndWhy(r: Resolution): void {
  if (!r.by?.trim()) throw new Error('who is resolving ("by") is required');
  if (!r.why?.trim()) throw new Error('a reason ("why") is required');
}

/** The action is one of `allowed` (`subject`: what it would resolve, for the refusal) and carries what it needs. */
function requireAllowedAction(r: Resolution, allowed: readonly ResolutionAction['action'][], subject: string): void {
  if (!allowed.includes(r.action)) throw new Error(`"${r.action}" does not resolve ${subject}; allowed: ${allowed.join(', ')}`);
  if (r.action === 'apply_to_invoice' && !r.invoiceNumber?.trim()) throw new Error('invoiceNumber is required');
  if (r.action === 'treat_as_adjustment' && !r.partnerPaymentId?.trim()) throw new Error('partnerPaymentId is required');
}

function validateResolution(state: PaymentState, r: Resolution, wait: WaitActions | null): void {
  requireWhoAndWhy(r);
  if (state.stage !== 'needs_attention' || !state.attention) {
    throw new Error(`payment ${state.paymentId} does not need attention (stage ${state.stage})`);
  }
  const reason = state.attention.reason;
  requireAllowedAction(r, wait?.actions ?? ALLOWED[reason], `${reason}${wait ? ` here (${wait.what})` : ''}`);
}

/** A run that ended with the payment in the ERP: a re-post takes what leaves the posting as it is. */
const ENDED_IN_ERP_ACTIONS: WaitActions = {
  actions: ['skip', 'retry'],
  what: 'the ERP has this payment\'s posting, which is never posted twice: skip accepts it as it is (finance books the rest by hand), retry reads both systems again',
};

/** Whether an ended run left the payment in the ERP (posted, refunded, adjusted after posting, or read as posted). */
function endedInErp(ended: PaymentState): boolean {
  return (
    ended.stage === 'posted' ||
    ended.stage === 'refunded' ||
    (ended.posting !== null && ended.posting.status !== 'rejected') ||
    ended.context?.erp.posted === true
  );
}

/**
 * Finance's decision on a run that ended with a reason (a re-post: a new run carries it). Refused, with why, when the run
 * ended with no reason, or the action is not one its reason allows (ALLOWED; only skip or retry once the ERP has the
 * payment). Thrown messages are for the caller.
 */
export function validateRepost(ended: PaymentState, r: Resolution): void {
  requireWhoAndWhy(r);
  if (!ended.attention) {
    throw new Error(
      `payment ${ended.paymentId} ended ${ended.stage} with no reason left for finance: nothing to re-post (payment retry reads both systems again)`,
    );
  }
  const wait = endedInErp(ended) ? ENDED_IN_ERP_ACTIONS : null;
  const reason = ended.attention.reason;
  requireAllowedAction(r, wait?.actions ?? ALLOWED[reason], `${reason} on payment ${ended.paymentId}, which ended ${ended.stage}${wait ? ` (${wait.what})` : ''}`);
}

/** What a re-post run carries (`PortalPaymentInput.repost`): the decision, and what the ended run's reason was about. */
export function repostDecision(ended: PaymentState, runId: string, r: Resolution): RepostDecision {
  validateRepost(ended, r);
  const attention = ended.attention!;
  const skippedClosed = (ended.plan?.parts ?? []).flatMap((p) => (p.kind === 'skipped' && p.reason === 'closed_invoice' && p.invoiceNumber ? [p.invoiceNumber] : []));
  const parked = ended.plan?.attention?.invoiceNumbers ?? [];
  const invoiceNumbers = [...new Set(attention.reason === 'closed_invoice' ? skippedClosed : parked)];
  return { resolution: r, runId, stage: ended.stage, reason: attention.reason, invoiceNumbers };
}

/**
 * Folds a finance decision into the inputs of the next plan; null keeps the previous override (retry). `attention`: what
 * the decision was taken on (a parked plan's, or the reason and invoices of the run a re-post ended). `revision7`: a
 * payment parked for its size (over_cap, no invoices) is posted unapplied on post_unapplied, as the action says, and
 * applied to the invoice finance names on apply_to_invoice; older runs took post_unapplied there as "accept it as the
 * portal allocated it".
 */
function applyResolution(
  r: Resolution,
  attention: Pick<PlanAttention, 'reason' | 'invoiceNumbers'> | null,
  resolutions: FinanceResolutions,
  revision7 = false,
): ResolutionAction | null {
  switch (r.action) {
    case 'retry':
      return null;
    case 'post_unapplied': {
      const numbers = attention?.invoiceNumbers ?? [];
      if (attention?.reason === 'over_cap') (resolutions as { allowOverCap?: boolean }).allowOverCap = true;
      if (numbers.length === 0) return attention?.reason === 'over_cap' && !revision7 ? null : { action: 'post_unapplied' };
      (resolutions as { invoices?: Record<string, 'post_unapplied' | 'skip'> }).invoices = {
        ...resolutions.invoices,
        ...Object.fromEntries(numbers.map((n) => [n, 'post_unapplied' as const])),
      };
      return null;
    }
    case 'apply_to_invoice':
      if (revision7 && attention?.reason === 'over_cap') (resolutions as { allowOverCap?: boolean }).allowOverCap = true;
      return r;
    default:
      return r;
  }
}

/** What a plan left out of the ledger, or credited to the customer as an overpayment, for the run's reason. */
function skippedDetail(plan: ApplicationPlan): string {
  return plan.parts
    .flatMap((p) =>
      p.kind === 'skipped' || p.kind === 'excess'
        ? [`${p.kind} ${money(p.amountMinor, plan.currency)} (${p.invoiceNumber ?? 'no invoice'})`]
        : p.kind === 'unapplied' && p.why === 'overpayment'
          ? [`overpayment of ${money(p.amountMinor, plan.currency)} on ${p.invoiceNumber} credited to the customer`]
          : [],
    )
    .join('; ');
}

function toJournalRequest(plan: ApplicationPlan, c: PaymentContext, notify?: PaymentPostedNotice): JournalPostRequest {
  return {
    ...(notify ? { notify } : {}),
    externalDocumentNumber: plan.externalDocumentNumber,
    paymentMethodCode: plan.methodCode,
    balancingAccountNo: plan.balancingAccount,
    postingDate: c.date,
    lines: postableParts(plan).map((p) => ({
      kind: p.kind,
      customerNumber: c.customerNumber!,
      amountMinor: p.amountMinor,
      currency: c.currency,
      invoiceNumber: p.kind === 'applied' ? p.invoiceNumber : null,
      account: p.kind === 'fee' ? p.account : null,
      description: p.kind === 'fee' ? `Portal payment ${c.paymentId} fee` : `Portal payment ${c.paymentId}`,
    })),
  };
}

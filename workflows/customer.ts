import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AdjustmentMatch, MatchablePayment } from '../activities/paymentTypes';
import { adjustmentAnswered, adjustmentPaired } from './portalPayment';
import { customerNotReadySignal, customerReadySignal } from './invoiceMessages';
import { paymentWorkflowId } from './ids';
import {
  arbitrateAdjustment,
  listedPositives,
  listPairedPositive,
  pruneMatchLedger,
  recordKnownPayments,
  releaseNegative,
  type MatchLedgerEntry,
} from './adjustmentArbiter';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// One workflow per ERP customer (id customer:<company>:<number>). It owns the customer's portal side: opt-in,
// auto-bill, the portal client id, and the sync itself. Invoices read a ready portal client from its memo and ask for
// one with an Update otherwise; handlers run one at a time, so two invoices of a new customer never create two portal
// clients. It is also the arbiter that pairs the customer's negative portal payments with positive ones (refund versus
// adjustment).

export type PortalClientAnswer =
  /** `autoBill`: the client's auto-bill as this workflow set it (when the answer says; else read from the portal). */
  | { status: 'ready'; connectionKey: string; clientId: string; autoBill?: boolean }
  | { status: 'missing_email' | 'not_opted_in' | 'unknown_customer' | 'portal_rejected'; detail: string };

export interface CustomerState {
  companyId: string;
  customerNumber: string;
  optedIn: boolean;
  autoBill: boolean;
  portal: { connectionKey: string; clientId: string } | null;
  lastSync: { at: string; status: string; detail?: string } | null;
  /** Invoice workflows waiting for this customer to become ready in the portal. */
  waitingInvoices: string[];
  /** Recent portal payments, for refund-versus-adjustment pairing. */
  matchLedger: MatchLedgerEntry[];
}

export const ensurePortalClientUpdate = defineUpdate<PortalClientAnswer, [{ invoiceWorkflowId?: string }]>('ensurePortalClient');
export const setOptInUpdate = defineUpdate<CustomerState, [{ optedIn: boolean; autoBill?: boolean; by: string }]>('setOptIn');
export const syncCustomerUpdate = defineUpdate<PortalClientAnswer, [{ by: string }]>('syncCustomer');
export const resetCustomerSyncUpdate = defineUpdate<CustomerState, [{ by: string; why: string }]>('resetCustomerSync');
export interface MatchRequest {
  payment: MatchablePayment;
  connectionKey: string;
  windowMs: number;
  /**
   * The customer's positive portal payments within the window, as the asking (negative) payment's activity read them
   * from the portal: taken into the ledger first, so positive payments need not offer themselves unless a negative one
   * is waiting (revision 2).
   */
  known?: MatchablePayment[];
}
export const matchAdjustmentUpdate = defineUpdate<AdjustmentMatch, [MatchRequest]>('matchAdjustment');
/**
 * A negative portal payment was voided: it pairs with nothing any more and its positive partner is free again. Answers
 * the partner it had (null: none), the same on every ask.
 */
export const releaseAdjustmentUpdate = defineUpdate<{ partnerPaymentId: string | null }, [{ paymentId: string }]>('releaseAdjustment');
/** A positive portal payment offered for pairing; answered with the payment workflow's adjustmentAnswered signal. */
export const offerForMatchingSignal = defineSignal<[MatchRequest]>('offerForMatching');
export const customerStateQuery = defineQuery<CustomerState>('customerState');

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * 2: the memo publishes the portal client the customer is ready with (`portalClient`), so an invoice's sync reads it
 * with a describe (free, and no workflow task) instead of asking by Update, and whether a negative payment is waiting
 * for a partner (`adjustmentWaiting`), so a positive payment offers itself for pairing only then.
 * 3: handlers that change the customer run one at a time in arrival order (`exclusive`). Before, a flag and a condition
 * let two handlers admitted in one workflow task, or every handler waiting when one finished, run side by side (two
 * creates of the client, each attachment uploaded twice).
 * 4: paired payments are remembered past the pruning horizon (the newest 200 pairs), so a paired positive payment
 * read again from the portal is not taken for an unpaired one and claimed by a second negative payment.
 */
export const CUSTOMER_WORKFLOW_REVISION = 4;

/** The memo key of the published portal client (null: ask by Update). */
export const PORTAL_CLIENT_MEMO = 'portalClient';
export type PublishedPortalClient = { connectionKey: string; clientId: string; autoBill: boolean } | null;
/** The memo key saying a negative payment waits for a positive partner (absent: an older run; offer anyway). */
export const ADJUSTMENT_WAITING_MEMO = 'adjustmentWaiting';
/** The memo key listing positive payments a negative one paired with, until they ask (absent when none). */
export const ADJUSTMENT_PAIRED_MEMO = 'adjustmentPaired';

export interface CustomerInput {
  companyId: string;
  customerNumber: string;
  state?: CustomerState;
  /** Which behaviour this run was started with (absent: 1), carried across continue-as-new, so older runs replay as they ran. */
  revision?: number;
}

export async function customer(input: CustomerInput): Promise<void> {
  const state: CustomerState = input.state ?? {
    companyId: input.companyId,
    customerNumber: input.customerNumber,
    optedIn: false,
    autoBill: false,
    portal: null,
    lastSync: null,
    waitingInvoices: [],
    matchLedger: [],
  };
  let busy = false;
  // Revision 2: what the memo says now (as this run started: carried over continue-as-new, or none).
  const publishes = (input.revision ?? 1) >= 2;
  // The paired list is in the memo only while it has someone (runs without one write what they always wrote).
  const memoNow = () => {
    const paired = listedPositives(state.matchLedger);
    return {
      [PORTAL_CLIENT_MEMO]: readyClient(state),
      [ADJUSTMENT_WAITING_MEMO]: state.matchLedger.some((e) => e.waiting && !e.pairedWith),
      ...(paired.length ? { [ADJUSTMENT_PAIRED_MEMO]: paired } : {}),
    };
  };
  const memoAtStart = workflowInfo().memo ?? {};
  let published = JSON.stringify({
    [PORTAL_CLIENT_MEMO]: memoAtStart[PORTAL_CLIENT_MEMO] ?? null,
    [ADJUSTMENT_WAITING_MEMO]: memoAtStart[ADJUSTMENT_WAITING_MEMO] ?? null,
    ...(memoAtStart[ADJUSTMENT_PAIRED_MEMO] ? { [ADJUSTMENT_PAIRED_MEMO]: memoAtStart[ADJUSTMENT_PAIRED_MEMO] } : {}),
  });
  /** Publishes the memo when what it says changed: one memo write per change, not per answer. */
  const publish = () => {
    if (!publishes) return;
    const now = memoNow();
    const json = JSON.stringify(now);
    if (json === published) return;
    // A paired list emptied since the last write is cleared (upsertMemo merges: a key left out would stay).
    const cleared = (JSON.parse(published) as Record<string, unknown>)[ADJUSTMENT_PAIRED_MEMO] && !(ADJUSTMENT_PAIRED_MEMO in now) ? { [ADJUSTMENT_PAIRED_MEMO]: null } : {};
    published = json;
    upsertMemo({ ...now, ...cleared });
  };
  // Revision 3: a queue. Each handler waits for the one before it (a promise chain), so they run one at a time and in
  // the order they came; `queued` counts those running or waiting.
  const inOrder = (input.revision ?? 1) >= 3;
  // Revision 4: the ledger keeps settled pairs past the usual horizon (see pruneMatchLedger).
  const keepsPairs = (input.revision ?? 1) >= 4;
  let turn: Promise<void> = Promise.resolve();
  let queued = 0;
  const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
    let done = () => {};
    if (inOrder) {
      const before = turn;
      turn = new Promise<void>((resolve) => (done = resolve));
      queued++;
      await before;
    } else {
      await condition(() => !busy);
    }
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
      if (inOrder) queued--;
      done();
      publish();
    }
  };
  /** Nothing is changing the customer, and nothing waits to. */
  const idle = () => !busy && queued === 0;

  const wait = (invoiceWorkflowId?: string) => {
    if (invoiceWorkflowId && !state.waitingInvoices.includes(invoiceWorkflowId)) state.waitingInvoices.push(invoiceWorkflowId);
  };
  const wakeInvoices = async () => {
    if (!state.portal) return;
    const waiting = state.waitingInvoices.splice(0, state.waitingInvoices.length);
    for (const id of waiting) {
      try {
        await getExternalWorkflowHandle(id).signal(customerReadySignal, state.portal);
      } catch {
        // That invoice workflow has ended (cancelled, or reset by hand): nothing to wake.
      }
    }
  };
  /**
   * The invoices waiting for this customer learn why it is still not ready (they keep waiting for the ready signal):
   * one parked as not_opted_in shows missing_email once the opt-in's sync finds no address.
   */
  const tellWaitingInvoices = async (res: Exclude<PortalClientAnswer, { status: 'ready' }>) => {
    for (const id of state.waitingInvoices) {
      try {
        await getExternalWorkflowHandle(id).signal(customerNotReadySignal, { reason: res.status, detail: res.detail });
      } catch {
        // That invoice workflow has ended: nothing to tell.
      }
    }
  };
  /**
   * Find-or-create the portal client by ERP customer number, update it, upload attachments. `byOperator`: an opt-in or
   * "Sync Customer", after which waiting invoices are told the answer even when it did not change.
   */
  const sync = async (byOperator = false): Promise<PortalClientAnswer> => {
    let res: PortalClientAnswer;
    try {
      res = await acts.syncCustomerToPortal({ companyId: state.companyId, customerNumber: state.customerNumber, autoBill: state.autoBill });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // A permanent refusal (the portal rejects the client's data): answered, so invoices wait with the reason.
      res = { status: 'portal_rejected', detail: String(err.cause?.message ?? err.message) };
    }
    const previous = state.lastSync;
    state.lastSync = { at: new Date().toISOString(), status: res.status, detail: res.status === 'ready' ? undefined : res.detail };
    // An invoice's own ask tells the others only when the answer changed: every waiting invoice's daily re-ask would
    // otherwise signal all the others.
    const tell = byOperator || previous?.status !== state.lastSync.status || previous?.detail !== state.lastSync.detail;
    if (res.status === 'ready') {
      state.portal = { connectionKey: res.connectionKey, clientId: res.clientId };
      await wakeInvoices();
    } else if (tell && state.waitingInvoices.length && patched('tell-waiting-invoices-why-not-ready')) await tellWaitingInvoices(res);
    return res;
  };

  publish();
  setHandler(customerStateQuery, () => state);
  setHandler(ensurePortalClientUpdate, ({ invoiceWorkflowId }) =>
    // The common case answers at once: the client exists and nothing is being changed (no queue behind other handlers).
    idle() && state.optedIn && state.portal
      ? { status: 'ready', ...state.portal }
      : exclusive(async (): Promise<PortalClientAnswer> => {
          if (!state.optedIn) {
            wait(invoiceWorkflowId);
            return { status: 'not_opted_in', detail: `customer ${state.customerNumber} is not opted in to the payment portal` };
          }
          if (state.portal) return { status: 'ready', ...state.portal };
          const res = await sync();
          if (res.status !== 'ready') wait(invoiceWorkflowId);
          return res;
        }),
  );
  setHandler(
    setOptInUpdate,
    ({ optedIn, autoBill }) =>
      exclusive(async () => {
        state.optedIn = optedIn;
        if (autoBill !== undefined) state.autoBill = autoBill;
        if (optedIn) await sync(true);
        return state;
      }),
    { validator: ({ by }) => requireText(by, 'by') },
  );
  setHandler(syncCustomerUpdate, () => exclusive(async () => (state.optedIn ? sync(true) : notOptedIn(state))), {
    validator: ({ by }) => requireText(by, 'by'),
  });
  setHandler(
    resetCustomerSyncUpdate,
    () =>
      exclusive(async () => {
        state.portal = null;
        state.lastSync = null;
        return state;
      }),
    { validator: ({ by, why }) => (requireText(by, 'by'), requireText(why, 'why')) },
  );
  /** Refund-versus-adjustment pairing, one payment at a time (handlers run their synchronous part one at a time). */
  const arbitrate = async ({ payment, connectionKey, windowMs, known }: MatchRequest): Promise<AdjustmentMatch> => {
    const nowMs = Date.now();
    pruneMatchLedger(state.matchLedger, nowMs, windowMs, keepsPairs);
    if (publishes) recordKnownPayments(state.matchLedger, known ?? []);
    const { answer, wake, tell } = arbitrateAdjustment(state.matchLedger, payment, windowMs, nowMs);
    // The positive partner's workflow may not run yet (its webhook comes later): the signal below would be lost, so the
    // pairing is published first and that payment asks when it runs.
    if (tell && publishes && patched('adjustment-pair-published')) listPairedPositive(state.matchLedger, tell.positivePaymentId);
    publish();
    const notify = async (paymentId: string, partnerPaymentId: string) => {
      try {
        await getExternalWorkflowHandle(paymentWorkflowId(connectionKey, paymentId)).signal(adjustmentPaired, { partnerPaymentId });
      } catch {
        // That payment's run has ended (a negative one reverses the posting itself) or not started yet (a positive one
        // finds itself in the memo and asks).
      }
    };
    if (wake) await notify(wake.negativePaymentId, wake.positivePaymentId);
    if (tell) await notify(tell.positivePaymentId, tell.negativePaymentId);
    return answer;
  };
  setHandler(matchAdjustmentUpdate, arbitrate, { validator: ({ payment }) => requireText(payment?.paymentId, 'payment.paymentId') });
  setHandler(
    releaseAdjustmentUpdate,
    ({ paymentId }) => {
      const partnerPaymentId = releaseNegative(state.matchLedger, paymentId);
      publish(); // the partner, if still listed, is not any more
      return { partnerPaymentId };
    },
    { validator: ({ paymentId }) => requireText(paymentId, 'paymentId') },
  );
  // Positive payments offer themselves by signal (many are taken in one workflow task) and get the answer back by signal.
  setHandler(offerForMatchingSignal, async (request) => {
    if (!request?.payment?.paymentId) return;
    const answer = await arbitrate(request);
    try {
      await getExternalWorkflowHandle(paymentWorkflowId(request.connectionKey, request.payment.paymentId)).signal(adjustmentAnswered, answer);
    } catch {
      // The payment's run has ended: it asks again if it runs again.
    }
  });

  // Entity workflow: lives as long as the customer; hands over to a fresh run when history grows.
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000);
  await condition(() => idle() && allHandlersFinished());
  await makeContinueAsNewFunc<typeof customer>({ memo: workflowInfo().memo })({ ...input, state, revision: CUSTOMER_WORKFLOW_REVISION });
}

/** The portal client invoices may use without asking: the customer is opted in and has one. */
function readyClient(state: CustomerState): PublishedPortalClient {
  return state.optedIn && state.portal ? { connectionKey: state.portal.connectionKey, clientId: state.portal.clientId, autoBill: state.autoBill } : null;
}

function notOptedIn(state: CustomerState): PortalClientAnswer {
  return { status: 'not_opted_in', detail: `customer ${state.customerNumber} is not opted in to the payment portal` };
}

function requireText(value: string | undefined, field: string) {
  if (!value?.trim()) throw new Error(`${field} is required`);
}


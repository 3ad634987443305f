import {
  ActivityFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// One workflow per ERP company and resource (id bc-subscription:<company>:<resource>): creates the Business Central
// webhook subscription and renews it before its 3-day expiry, recreating it if Business Central dropped it (it deletes
// subscriptions whose endpoint failed: after about two hours of failed deliveries, or at once on a 4xx answer). Between
// renewals it looks every `checkEveryMs` whether the subscription is still there; when it is not, it makes a new one
// and acts on every invoice changed since it was last seen alive (less Business Central's retry span), as the lost
// notifications would have. Sleeps are durable timers, so a restart loses nothing.

export const renewNowSignal = defineSignal('renewNow');
export const subscriptionStateQuery = defineQuery<BcSubscriptionState>('subscriptionState');

export interface BcSubscriptionState {
  subscriptionId: string | null;
  expiresAt: string | null;
  renewals: number;
  recreated: number;
  /** Why the last create or renewal was refused (e.g. our endpoint failed the handshake), until one succeeds. */
  lastError?: string | null;
  /** When the subscription was last known to be there (created, renewed or checked). */
  aliveAt?: string | null;
  /** A catch-up owed since this time (a new subscription made after one was lost), until it has run. */
  catchUpFrom?: string | null;
  /** Catch-ups run after Business Central dropped the subscription, and the invoices the last one found. */
  catchUps?: number;
  lastCatchUp?: { sinceIso: string; invoices: number; posted: number } | null;
}

export interface BcSubscriptionInput {
  companyId: string;
  resource: string;
  /** Renew this long before expiry. */
  renewBeforeMs: number;
  /** Look whether the subscription is still there this often (default 15 minutes). */
  checkEveryMs?: number;
  state?: BcSubscriptionState;
}

const renewing: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10 minutes' },
};
const acts = proxyActivities<Activities>(renewing);
/** A catch-up may start many invoices: more time than a renewal, the same retries. */
const catchUp = proxyActivities<Activities>({ ...renewing, startToCloseTimeout: '10 minutes' });

/** The check between renewals: a few quick attempts; when Business Central cannot say, the next check asks again. */
const check = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 3 },
});

const RENEWALS_PER_RUN = 50;
/** After Business Central refused to create or renew the subscription (e.g. our endpoint was down for the handshake). */
const RETRY_CREATE_MS = 5 * 60_000;
const DEFAULT_CHECK_EVERY_MS = 15 * 60_000;
/** Business Central retries a failing endpoint for about two hours (1, 1, 1, 10 and 100 minutes) before it drops the
 * subscription: a catch-up reaches back that far, and an hour more, before the subscription was last seen alive. */
const CATCH_UP_REACH_MS = 3 * 3_600_000;
/** Marks the runs that check the subscription between renewals and catch up after losing it. */
const LIVENESS_PATCH = 'subscription-liveness';
/** Marks the runs that keep a subscription whose renewal was refused, and renew it again later. */
const REFUSED_RENEWAL_PATCH = 'refused-renewal-keeps-subscription';

export async function bcSubscription(input: BcSubscriptionInput): Promise<void> {
  const state: BcSubscriptionState = input.state ?? { subscriptionId: null, expiresAt: null, renewals: 0, recreated: 0 };
  let renewNow = false;
  setHandler(renewNowSignal, () => {
    renewNow = true;
  });
  setHandler(subscriptionStateQuery, () => state);

  /**
   * The catch-up a new subscription owes, once it exists. One refused for good (its retries cover passing failures)
   * says why and is tried again after the next wait, without touching the subscription.
   */
  const catchUpIfDue = async () => {
    const sinceIso = state.catchUpFrom;
    if (!sinceIso) return;
    try {
      const found = await catchUp.catchUpInvoices({ companyId: input.companyId, sinceIso });
      state.catchUps = (state.catchUps ?? 0) + 1;
      state.lastCatchUp = { sinceIso, ...found };
      state.catchUpFrom = null;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.lastError = `catching up since ${sinceIso}: ${String(err.cause?.message ?? err.message)}`;
    }
  };

  for (let i = 0; i < RENEWALS_PER_RUN && !workflowInfo().continueAsNewSuggested; i++) {
    try {
      if (!state.subscriptionId) {
        const created = await acts.createBcSubscription({ companyId: input.companyId, resource: input.resource });
        state.subscriptionId = created.subscriptionId;
        state.expiresAt = created.expiresAt;
        if (i > 0 || state.renewals > 0) state.recreated++;
        // A subscription made again after one was lost: what its notifications would have said is to be read back.
        if (patched(LIVENESS_PATCH) && state.aliveAt && !state.catchUpFrom) {
          state.catchUpFrom = new Date(Date.parse(state.aliveAt) - CATCH_UP_REACH_MS).toISOString();
        }
      } else {
        const renewed = await acts.renewBcSubscription({ companyId: input.companyId, subscriptionId: state.subscriptionId, resource: input.resource });
        if (renewed.status === 'gone') {
          state.subscriptionId = null;
          continue;
        }
        state.expiresAt = renewed.expiresAt;
        state.renewals++;
      }
      state.aliveAt = new Date(Date.now()).toISOString();
      state.lastError = null;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.lastError = String(err.cause?.message ?? err.message);
      // A renewal refused for good (e.g. our endpoint failed the handshake): the subscription is still there until it
      // expires, so keep it and renew again later (Business Central deletes it once expired: the renewal then finds it
      // gone and a new one is made, with its catch-up). Before, it was given up and "made again" at once, which found
      // and reused that same subscription, already due for renewal: a loop every second, and a catch-up each time.
      if (state.subscriptionId && !patched(REFUSED_RENEWAL_PATCH)) {
        state.subscriptionId = null;
        continue;
      }
      renewNow = false;
      await condition(() => renewNow, RETRY_CREATE_MS);
      continue;
    }
    await catchUpIfDue();
    renewNow = false;
    const renewAtMs = Date.now() + Math.max(1000, Date.parse(state.expiresAt!) - input.renewBeforeMs - Date.now());
    if (!patched(LIVENESS_PATCH)) {
      await condition(() => renewNow, renewAtMs - Date.now());
      continue;
    }
    // Until the renewal: is the subscription still there? If not, make a new one now (the loop's create). A history
    // grown long with checks hands over to a fresh run (which renews first).
    const checkEveryMs = input.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS;
    while (!renewNow && Date.now() < renewAtMs && !workflowInfo().continueAsNewSuggested) {
      await condition(() => renewNow, Math.max(1, Math.min(checkEveryMs, renewAtMs - Date.now())));
      if (renewNow || Date.now() >= renewAtMs) break;
      const alive = await check.bcSubscriptionAlive({ companyId: input.companyId, subscriptionId: state.subscriptionId! }).catch((err: unknown) => {
        if (!(err instanceof ActivityFailure)) throw err;
        return true; // cannot tell now: look again next time
      });
      if (!alive) {
        state.subscriptionId = null;
        break;
      }
      state.aliveAt = new Date(Date.now()).toISOString();
      await catchUpIfDue();
    }
  }
  await continueAsNew<typeof bcSubscription>({ ...input, state });
}

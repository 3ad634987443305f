import { ActivityFailure, condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// One workflow per ERP company and resource (id bc-subscription:<company>:<resource>): creates the Business Central
// webhook subscription and renews it before its 3-day expiry, recreating it if Business Central dropped it (it deletes
// subscriptions whose endpoint failed). Sleeps are durable timers, so a restart loses nothing.

export const renewNowSignal = defineSignal('renewNow');
export const subscriptionStateQuery = defineQuery<BcSubscriptionState>('subscriptionState');

export interface BcSubscriptionState {
  subscriptionId: string | null;
  expiresAt: string | null;
  renewals: number;
  recreated: number;
  /** Why the last create or renewal was refused (e.g. our endpoint failed the handshake), until one succeeds. */
  lastError?: string | null;
}

export interface BcSubscriptionInput {
  companyId: string;
  resource: string;
  /** Renew this long before expiry. */
  renewBeforeMs: number;
  state?: BcSubscriptionState;
}

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const RENEWALS_PER_RUN = 50;
/** After Business Central refused to create the subscription (e.g. our endpoint was down for the handshake). */
const RETRY_CREATE_MS = 5 * 60_000;

export async function bcSubscription(input: BcSubscriptionInput): Promise<void> {
  const state: BcSubscriptionState = input.state ?? { subscriptionId: null, expiresAt: null, renewals: 0, recreated: 0 };
  let renewNow = false;
  setHandler(renewNowSignal, () => {
    renewNow = true;
  });
  setHandler(subscriptionStateQuery, () => state);

  for (let i = 0; i < RENEWALS_PER_RUN; i++) {
    try {
      if (!state.subscriptionId) {
        const created = await acts.createBcSubscription({ companyId: input.companyId, resource: input.resource });
        state.subscriptionId = created.subscriptionId;
        state.expiresAt = created.expiresAt;
        if (i > 0 || state.renewals > 0) state.recreated++;
      } else {
        const renewed = await acts.renewBcSubscription({ companyId: input.companyId, subscriptionId: state.subscriptionId, resource: input.resource });
        if (renewed.status === 'gone') {
          state.subscriptionId = null;
          continue;
        }
        state.expiresAt = renewed.expiresAt;
        state.renewals++;
      }
      state.lastError = null;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.lastError = String(err.cause?.message ?? err.message);
      // A renewal refused for good: make a new subscription. A refused create: try again later (or on renewNow).
      if (state.subscriptionId) {
        state.subscriptionId = null;
        continue;
      }
      renewNow = false;
      await condition(() => renewNow, RETRY_CREATE_MS);
      continue;
    }
    renewNow = false;
    const waitMs = Math.max(1000, Date.parse(state.expiresAt!) - input.renewBeforeMs - Date.now());
    await condition(() => renewNow, waitMs);
  }
  await continueAsNew<typeof bcSubscription>({ ...input, state });
}

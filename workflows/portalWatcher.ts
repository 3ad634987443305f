import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PortalCursor } from '../activities/intakeTypes';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

// One workflow per portal connection (id portal-watcher:<connection>). Invoice Ninja has no view webhook and its
// webhooks are at-most-once, so this poller is the safety net for payments and the only source of invoice views. It
// reads what changed since its cursor (kept in workflow state, so it survives restarts and is visible in the UI),
// signals-with-start the payment workflows and signals invoice workflows, sleeps, and continues-as-new periodically.

export const pollNowSignal = defineSignal('pollNow');
export const watcherStateQuery = defineQuery<PortalWatcherState>('watcherState');

export interface PortalWatcherState {
  connectionKey: string;
  cursor: PortalCursor;
  polls: number;
  lastPollAt: string | null;
  paymentsSignalled: number;
  viewsSignalled: number;
}

export interface PortalWatcherInput {
  companyId: string;
  connectionKey: string;
  /** Milliseconds between invoice (view) polls. */
  viewsIntervalMs: number;
  /** Milliseconds between payment polls. */
  paymentsIntervalMs: number;
  /**
   * Unix seconds a first run reads the portal's changes from (its starter's clock less `polling.firstPollLookback`):
   * a portal in use before arsync holds payments and views that were never arsync's. Absent: from the beginning.
   */
  startFromSeconds?: number;
  state?: PortalWatcherState;
}

const { pollPortalChanges } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  // One watcher per connection: retrying every 10 s at most costs the portal's quota next to nothing, while a minute's
  // backoff would leave portal payments and views unseen for that long after an outage has passed.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s' },
});

const POLLS_PER_RUN = 200;

export async function portalWatcher(input: PortalWatcherInput): Promise<void> {
  const state: PortalWatcherState = input.state ?? {
    connectionKey: input.connectionKey,
    cursor: { invoices: { since: input.startFromSeconds ?? 0, seen: [] }, payments: { since: input.startFromSeconds ?? 0, seen: [] } },
    polls: 0,
    lastPollAt: null,
    paymentsSignalled: 0,
    viewsSignalled: 0,
  };
  let pollNow = false;
  setHandler(pollNowSignal, () => {
    pollNow = true;
  });
  setHandler(watcherStateQuery, () => state);

  let lastPaymentsPoll = 0;
  for (let i = 0; i < POLLS_PER_RUN; i++) {
    const now = Date.now();
    const paymentsDue = pollNow || now - lastPaymentsPoll >= input.paymentsIntervalMs;
    pollNow = false;
    const res = await pollPortalChanges({
      companyId: input.companyId,
      connectionKey: input.connectionKey,
      cursor: state.cursor,
      payments: paymentsDue,
    });
    if (paymentsDue) lastPaymentsPoll = now;
    state.cursor = res.cursor;
    state.polls++;
    state.lastPollAt = new Date().toISOString();
    state.paymentsSignalled += res.paymentsSignalled;
    state.viewsSignalled += res.viewsSignalled;
    await condition(() => pollNow, Math.min(input.viewsIntervalMs, input.paymentsIntervalMs));
  }
  await continueAsNew<typeof portalWatcher>({ ...input, state });
}

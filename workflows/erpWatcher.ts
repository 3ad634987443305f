import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { erpPollNowSignal, erpWatcherStateQuery, windowSyncCompletedSignal, type ErpWatcherState } from './erpMessages';
import { tellInvoices } from './erpRuns';
import { HEARTBEAT_TIMEOUT } from './heartbeat';

export * from './erpMessages';

// One workflow per ERP company (id erp-watcher:<company>): the durable watermark over Business Central's customer ledger
// entries (contracts/business-central.md §4). Every application and unapplication moves the invoice's entry (partial ones
// included, which send no webhook), so each poll reads the entries modified since the watermark, brings the invoices they
// touch in line in the portal (activities/erpMirror.ts), tells the invoice workflows, and advances the watermark to the
// newest entry read. The next read overlaps by a margin: re-reading is harmless, missing a late commit is not.

export interface ErpWatcherInput {
  companyId: string;
  /** Milliseconds between polls (settings.polling.erpLedgerInterval). */
  intervalMs: number;
  /** Re-read this far behind the watermark (default 30 s). */
  overlapMs?: number;
  /** Where a new watcher starts (default: when it starts; the window sync covers the past). */
  startFromIso?: string;
  state?: ErpWatcherState;
}

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  // One watcher per company: retrying every 10 s at most costs the ERP's quota next to nothing, while a minute's
  // backoff would leave ERP changes unseen for that long after an outage has passed.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s' },
});

const POLLS_PER_RUN = 200;
const RECENT_LIMIT = 50;
const RETRY_LIMIT = 500;
const MAX_RETRY_AGE_MS = 86_400_000;

export async function erpWatcher(input: ErpWatcherInput): Promise<void> {
  const overlapMs = input.overlapMs ?? 30_000;
  const state: ErpWatcherState = input.state ?? {
    companyId: input.companyId,
    watermark: input.startFromIso ?? new Date(Date.now()).toISOString(),
    polls: 0,
    lastPollAt: null,
    entriesRead: 0,
    recorded: 0,
    reduced: 0,
    lastWindowSync: null,
    retry: [],
    seen: [],
    recent: [],
    lastError: null,
  };
  let pollNow = false;
  setHandler(erpPollNowSignal, () => {
    pollNow = true;
  });
  setHandler(windowSyncCompletedSignal, (run) => {
    if (!state.lastWindowSync || run.atMs > state.lastWindowSync.atMs) state.lastWindowSync = run;
  });
  setHandler(erpWatcherStateQuery, () => state);

  for (let i = 0; i < POLLS_PER_RUN && !workflowInfo().continueAsNewSuggested; i++) {
    pollNow = false;
    const now = Date.now();
    const fromWatermark = new Date(Date.parse(state.watermark) - overlapMs).toISOString();
    const sinceIso = state.retry.reduce((min, r) => (r.sinceIso < min ? r.sinceIso : min), fromWatermark);
    try {
      const res = await acts.pollErpLedger({
        companyId: input.companyId,
        sinceIso,
        retry: state.retry.map(({ invoiceNumber, customerNumber }) => ({ invoiceNumber, customerNumber })),
        seen: state.seen ?? [],
      });
      if (res.newestModified && Date.parse(res.newestModified) > Date.parse(state.watermark)) state.watermark = res.newestModified;
      // Keep what the next read's overlap will return again.
      const nextSinceMs = Date.parse(state.watermark) - overlapMs;
      state.seen = [...new Set([...(state.seen ?? []), ...res.seen])].filter((k) => Date.parse(k.slice(k.indexOf('@') + 1)) > nextSinceMs);
      const before = new Map(state.retry.map((r) => [r.invoiceNumber, r]));
      state.retry = res.retry
        .map((r) => {
          const seen = before.get(r.invoiceNumber);
          return { ...r, sinceIso: seen?.sinceIso ?? sinceIso, attempts: (seen?.attempts ?? 0) + 1 };
        })
        // Past a day the drift sweep owns it.
        .filter((r) => now - Date.parse(r.sinceIso) < MAX_RETRY_AGE_MS)
        .slice(0, RETRY_LIMIT);
      await tellInvoices(input.companyId, res.notes);
      state.recorded += res.applications.filter((a) => a.kind === 'application').length;
      state.reduced += res.applications.filter((a) => a.kind === 'unapplication').length;
      state.recent = [...state.recent, ...res.notes].slice(-RECENT_LIMIT);
      state.entriesRead += res.entriesRead;
      state.lastError = null;
    } catch (err) {
      // A permanent failure (a non-retryable activity error): keep the watermark, say why, and try again next poll.
      state.lastError = err instanceof Error ? err.message : String(err);
    }
    state.polls++;
    state.lastPollAt = new Date(Date.now()).toISOString();
    await condition(() => pollNow, input.intervalMs);
  }
  await continueAsNew<typeof erpWatcher>({ ...input, state });
}

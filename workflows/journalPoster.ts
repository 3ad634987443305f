import {
  type ActivityOptions,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JournalPostRequest, JournalPostResult } from '../activities/journalTypes';
import { postingTaskQueue } from './ids';
import { onceTimer } from './onceTimer';

// One workflow per ERP payment journal batch. Business Central's post action posts every line of a batch, so
// concurrent payments must never post each other's half-made lines. Payment workflows enqueue requests by signal
// (signal-with-start); the loop takes everything queued and hands it to one postJournalBatch activity, which writes
// all their lines and posts once (a group commit) and answers each request with its own entries; a group Business
// Central rejects is retried one request at a time inside the activity, so one bad payment never fails the others.
// Each answer goes back to the requesting workflow as a signal.
//
// Why signals rather than Updates: every Update is admitted in a workflow task of its own, so fifty payments arriving
// at once queued up behind each other's admission; signals that arrive together are taken in one task.

export interface JournalEnvelope {
  /** Unique per request (stable across retries of the enqueueing activity). */
  requestId: string;
  /** Workflow id of the requester, which gets `journalPosted` back. */
  replyTo: string;
  request: JournalPostRequest;
}

export interface JournalAnswer {
  requestId: string;
  result: JournalPostResult;
}

export const enqueuePosting = defineSignal<[JournalEnvelope]>('enqueuePosting');
/** Sent to the requesting workflow with the answer to its request. */
export const journalPosted = defineSignal<[JournalAnswer]>('journalPosted');
export const journalQueueQuery = defineQuery<JournalQueueState>('journalQueue');

export interface JournalQueueState {
  queued: string[];
  inFlight: string[];
  posted: number;
  groups: number;
  largestGroup: number;
}

/** Requests per group commit: bounds one activity's work (and its payload). */
const MAX_GROUP = 100;
/** Answers remembered for requests enqueued twice (a retried enqueue after its answer had gone out). */
const REMEMBERED = 500;

const POSTING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  // A worker killed mid-post is noticed within seconds; the retry reuses the lines already written.
  heartbeatTimeout: '5s',
  // Every payment of the batch waits on this one activity, and it is the only one per batch: retrying every 2 s costs
  // Business Central's quota next to nothing (30 attempts a minute at most), while a longer backoff leaves every queued
  // payment waiting after the fault has passed. After a crash the retry comes 5-7 s after the last heartbeat (with a
  // 5-second cap, up to 10 s), so a commit cut short by crashes a few seconds apart still gets to finish.
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '2s' },
};

/** 2: one idle timer, re-armed when it fires, instead of one per wait (each timer is a billed action). */
export const JOURNAL_POSTER_REVISION = 2;
/** Idle this long: hand over to a fresh run. */
const IDLE_MS = 3_600_000;

export interface JournalPosterInput {
  companyId: string;
  batch: string;
  /** Which behaviour the run was started with (absent: 1); in the input, so older runs replay as they ran. */
  revision?: number;
  /** Carried over continue-as-new. */
  queue?: JournalEnvelope[];
  stats?: Omit<JournalQueueState, 'queued' | 'inFlight'>;
}

export async function journalPoster(input: JournalPosterInput): Promise<void> {
  // On the posting task queue: every queued payment waits for this one activity, which must not wait behind others.
  // A run still on the main queue (started before the poster had a queue of its own) sends it there too; the main
  // worker registers the commit only for attempts scheduled on the main queue before that.
  const { postJournalBatch } = proxyActivities<Activities>({ ...POSTING_OPTIONS, taskQueue: postingTaskQueue(workflowInfo().taskQueue) });
  const queue: JournalEnvelope[] = [...(input.queue ?? [])];
  let inFlight: JournalEnvelope[] = [];
  const answered = new Map<string, JournalPostResult>();
  const stats = { posted: 0, groups: 0, largestGroup: 0, ...input.stats };
  const replies: Array<Promise<void>> = [];

  const reply = (e: JournalEnvelope, result: JournalPostResult) =>
    getExternalWorkflowHandle(e.replyTo)
      .signal(journalPosted, { requestId: e.requestId, result })
      .catch(() => undefined); // the requester has ended; a new run asks again

  setHandler(enqueuePosting, (e) => {
    if (!e?.requestId || !e.replyTo || !e.request?.externalDocumentNumber || !Array.isArray(e.request.lines)) return; // not a request
    const known = answered.get(e.requestId);
    if (known) replies.push(reply(e, known));
    else if (!queue.some((q) => q.requestId === e.requestId) && !inFlight.some((q) => q.requestId === e.requestId)) queue.push(e);
  });
  setHandler(journalQueueQuery, () => ({
    queued: queue.map((q) => q.request.externalDocumentNumber),
    inFlight: inFlight.map((q) => q.request.externalDocumentNumber),
    ...stats,
  }));

  const oneTimer = (input.revision ?? 1) >= 2;
  let lastWorkAt = Date.now();
  const idleCheck = onceTimer(IDLE_MS);

  for (;;) {
    if (oneTimer) {
      idleCheck.arm();
      await condition(() => queue.length > 0 || idleCheck.due || workflowInfo().continueAsNewSuggested);
      if (queue.length === 0) {
        // Idle for an hour, or history getting long: hand over. Worked within the hour: look again in an hour.
        if (workflowInfo().continueAsNewSuggested || Date.now() - lastWorkAt >= IDLE_MS) break;
        idleCheck.take();
        continue;
      }
    } else {
      await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested, '1 hour');
      if (queue.length === 0) break; // idle for an hour, or history getting long: hand over
    }
    inFlight = queue.splice(0, MAX_GROUP);
    const outcome = await postJournalBatch({ companyId: input.companyId, batch: input.batch, requests: inFlight.map((q) => q.request) });
    const byExt = new Map(outcome.map((r) => [r.externalDocumentNumber, r]));
    for (const e of inFlight) {
      const result: JournalPostResult = byExt.get(e.request.externalDocumentNumber) ?? {
        externalDocumentNumber: e.request.externalDocumentNumber,
        status: 'rejected',
        code: 'no_answer',
        message: 'the posting activity gave no answer for this request',
      };
      if (result.status === 'posted') stats.posted++;
      answered.set(e.requestId, result);
      replies.push(reply(e, result));
    }
    for (const key of [...answered.keys()].slice(0, Math.max(0, answered.size - REMEMBERED))) answered.delete(key);
    stats.groups++;
    stats.largestGroup = Math.max(stats.largestGroup, inFlight.length);
    inFlight = [];
    lastWorkAt = Date.now();
    if (replies.length > 1000) await Promise.all(replies.splice(0));
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await Promise.all(replies.splice(0));
  await condition(allHandlersFinished);
  // The next run is on the posting task queue (a run on the main queue moves there).
  const next = makeContinueAsNewFunc<typeof journalPoster>({ taskQueue: postingTaskQueue(workflowInfo().taskQueue) });
  await next({ companyId: input.companyId, batch: input.batch, queue, stats, revision: JOURNAL_POSTER_REVISION });
}

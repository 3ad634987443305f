import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JournalPostRequest, JournalPostResult } from '../activities/journalTypes';

// One workflow per ERP payment journal batch. Business Central's post action posts every line of a batch, so
// concurrent payments must never post each other's half-made lines. Requests (Updates) queue here; the loop takes
// everything queued and hands it to one postJournalBatch activity, which writes all their lines and posts once (a
// group commit) and answers each request with its own entries; a group Business Central rejects is retried one
// request at a time inside the activity, so one bad payment never fails the others.

export const postToJournal = defineUpdate<JournalPostResult, [JournalPostRequest]>('postToJournal');
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

const { postJournalBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  // A worker killed mid-post is noticed within seconds; the retry reuses the lines already written.
  heartbeatTimeout: '5s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

export interface JournalPosterInput {
  companyId: string;
  batch: string;
  postedCount?: number;
  groups?: number;
  largestGroup?: number;
}

interface Queued {
  id: string;
  request: JournalPostRequest;
}

export async function journalPoster(input: JournalPosterInput): Promise<void> {
  const queue: Queued[] = [];
  let inFlight: Queued[] = [];
  const results = new Map<string, JournalPostResult>();
  const stats = { posted: input.postedCount ?? 0, groups: input.groups ?? 0, largestGroup: input.largestGroup ?? 0 };
  let seq = 0;

  setHandler(
    postToJournal,
    async (request) => {
      // Each request gets its own slot: a payment asking again after a rejection is posted again, not answered from
      // an old result. Duplicates of one request are already folded by the update id.
      const id = `${request.externalDocumentNumber}#${seq++}`;
      queue.push({ id, request });
      await condition(() => results.has(id));
      const result = results.get(id)!;
      results.delete(id);
      return result;
    },
    {
      validator: (request) => {
        if (!request?.externalDocumentNumber) throw new Error('externalDocumentNumber is required');
        if (!Array.isArray(request.lines) || request.lines.length === 0) throw new Error('a posting needs at least one line');
      },
    },
  );
  setHandler(journalQueueQuery, () => ({
    queued: queue.map((q) => q.request.externalDocumentNumber),
    inFlight: inFlight.map((q) => q.request.externalDocumentNumber),
    ...stats,
  }));

  for (;;) {
    await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested, '1 hour');
    if (queue.length === 0) {
      // Idle, or history getting long: hand over once every answered request has been collected.
      await condition(allHandlersFinished);
      if (queue.length === 0) break;
    }
    inFlight = queue.splice(0, MAX_GROUP);
    const outcome = await postJournalBatch({ companyId: input.companyId, batch: input.batch, requests: inFlight.map((q) => q.request) });
    const byExt = new Map(outcome.map((r) => [r.externalDocumentNumber, r]));
    for (const q of inFlight) {
      const r = byExt.get(q.request.externalDocumentNumber);
      results.set(
        q.id,
        r ?? { externalDocumentNumber: q.request.externalDocumentNumber, status: 'rejected', code: 'no_answer', message: 'the posting activity gave no answer for this request' },
      );
      if (r && r.status === 'posted') stats.posted++;
    }
    stats.groups++;
    stats.largestGroup = Math.max(stats.largestGroup, inFlight.length);
    inFlight = [];
    if (workflowInfo().continueAsNewSuggested && queue.length === 0) {
      await condition(allHandlersFinished);
      if (queue.length === 0) break;
    }
  }
  await continueAsNew<typeof journalPoster>({ companyId: input.companyId, batch: input.batch, postedCount: stats.posted, groups: stats.groups, largestGroup: stats.largestGroup });
}

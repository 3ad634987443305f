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
// everything queued, writes all their lines and posts once (a group commit), and answers each request with its own
// entries. A rejected batch is retried one request at a time so one bad payment never fails the others.

export const postToJournal = defineUpdate<JournalPostResult, [JournalPostRequest]>('postToJournal');
export const journalQueueQuery = defineQuery<{ queued: string[]; posted: number }>('journalQueue');

const { postJournalBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export interface JournalPosterInput {
  companyId: string;
  batch: string;
  postedCount?: number;
}

export async function journalPoster(input: JournalPosterInput): Promise<void> {
  const queue: JournalPostRequest[] = [];
  const results = new Map<string, JournalPostResult>();
  let posted = input.postedCount ?? 0;

  setHandler(
    postToJournal,
    async (request) => {
      const key = request.externalDocumentNumber;
      if (!results.has(key) && !queue.some((q) => q.externalDocumentNumber === key)) queue.push(request);
      await condition(() => results.has(key));
      return results.get(key)!;
    },
    {
      validator: (request) => {
        if (!request.externalDocumentNumber) throw new Error('externalDocumentNumber is required');
        if (request.lines.length === 0) throw new Error('a posting needs at least one line');
      },
    },
  );
  setHandler(journalQueueQuery, () => ({ queued: queue.map((q) => q.externalDocumentNumber), posted }));

  for (;;) {
    await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested, '1 hour');
    if (queue.length === 0) {
      // Idle, or history getting long: hand over once every answered request has been collected.
      await condition(allHandlersFinished);
      if (queue.length === 0) break;
    }
    const batch = queue.splice(0, queue.length);
    const outcome = await postJournalBatch({ companyId: input.companyId, batch: input.batch, requests: batch });
    for (const r of outcome) {
      results.set(r.externalDocumentNumber, r);
      posted++;
    }
    // Results are only needed until their handlers return; keep the map small across a long life.
    await condition(allHandlersFinished);
    results.clear();
  }
  await continueAsNew<typeof journalPoster>({ ...input, postedCount: posted });
}

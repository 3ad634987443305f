import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

// Temporal Cloud "actions" counted from real histories (rules: docs.temporal.io/cloud/actions, summarised in the
// project's Temporal notes §6). Replay, workflow tasks and search attributes given at start are free. What a history
// cannot show is left out and said so: queries (none are made while a cost scenario runs), heartbeats (our activities
// do not heartbeat) and de-duplicated starts (0 actions anyway).

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCount {
  starts: number;
  activities: number;
  timers: number;
  signals: number;
  updates: number;
  upserts: number;
  children: number;
  localActivities: number;
  /** History events (every kind, billed or not). */
  events: number;
}

export const emptyCount = (): ActionCount => ({ starts: 0, activities: 0, timers: 0, signals: 0, updates: 0, upserts: 0, children: 0, localActivities: 0, events: 0 });

export const totalActions = (c: ActionCount) => c.starts + c.activities + c.timers + c.signals + c.updates + c.upserts + c.children + c.localActivities;

export function addCounts(a: ActionCount, b: ActionCount): ActionCount {
  const out = emptyCount();
  for (const k of Object.keys(out) as Array<keyof ActionCount>) out[k] = a[k] + b[k];
  return out;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A local activity's marker (a patch marker is the other kind of marker and is not an activity). */
export const isLocalActivityMarker = (e: HistoryEvent): boolean => !!e.markerRecordedEventAttributes && e.markerRecordedEventAttributes.markerName !== 'core_patch';

/**
 * Counts the actions of one run's events with an id above `afterEventId` (0: the whole run). A signal that arrives as
 * event 2 came with the start (signal-with-start), which Temporal Cloud bills as one action together.
 */
export function countActions(events: HistoryEvent[], afterEventId = 0): ActionCount {
  const c = emptyCount();
  const markerTasks = new Set<number>();
  for (const e of events) {
    const id = num(e.eventId);
    if (id <= afterEventId) continue;
    c.events++;
    if (e.workflowExecutionStartedEventAttributes) c.starts++;
    else if (e.activityTaskStartedEventAttributes) c.activities += Math.max(1, num(e.activityTaskStartedEventAttributes.attempt));
    else if (e.timerStartedEventAttributes) c.timers++;
    else if (e.workflowExecutionSignaledEventAttributes) c.signals += id === 2 ? 0 : 1;
    else if (e.workflowExecutionUpdateAcceptedEventAttributes) c.updates++;
    // A memo write is counted like a search-attribute upsert (the rules do not name it; counted rather than assumed free).
    else if (e.upsertWorkflowSearchAttributesEventAttributes || e.workflowPropertiesModifiedEventAttributes) c.upserts++;
    else if (e.startChildWorkflowExecutionInitiatedEventAttributes) c.children += 2;
    // Local activities leave markers, billed once per workflow task; a patch (version) marker is not an action.
    else if (isLocalActivityMarker(e)) {
      markerTasks.add(num(e.markerRecordedEventAttributes!.workflowTaskCompletedEventId));
    }
  }
  c.localActivities = markerTasks.size;
  return c;
}

export async function runEvents(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

/** Every run of a workflow id (continue-as-new makes several), oldest first. */
export async function runsOf(client: Client, workflowId: string): Promise<Array<{ runId: string; startTime: Date; type: string }>> {
  const runs: Array<{ runId: string; startTime: Date; type: string }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: wf.runId, startTime: wf.startTime, type: wf.type });
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

/** All actions of every run of a workflow. */
export async function workflowActions(client: Client, workflowId: string): Promise<ActionCount> {
  let total = emptyCount();
  for (const run of await runsOf(client, workflowId)) total = addCounts(total, countActions(await runEvents(client, workflowId, run.runId)));
  return total;
}

export interface Mark {
  workflowId: string;
  runId: string;
  lastEventId: number;
}

/** Where a long-lived (shared) workflow's history stands now, so a scenario's share can be counted afterwards. */
export async function markWorkflow(client: Client, workflowId: string, runId: string): Promise<Mark> {
  const events = await runEvents(client, workflowId, runId);
  return { workflowId, runId, lastEventId: num(events[events.length - 1]?.eventId) };
}

/** Actions a shared workflow took since `mark`: the rest of the marked run and every run started after it. */
export async function actionsSince(client: Client, mark: Mark, since: Date): Promise<ActionCount> {
  let total = emptyCount();
  for (const run of await runsOf(client, mark.workflowId)) {
    if (run.runId === mark.runId) total = addCounts(total, countActions(await runEvents(client, mark.workflowId, run.runId), mark.lastEventId));
    else if (run.startTime >= since) total = addCounts(total, countActions(await runEvents(client, mark.workflowId, run.runId)));
  }
  return total;
}

import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

// Where an invoice's time goes, read from its history: how long each activity waited for a worker slot
// (scheduled → started) and how long it ran (started → closed), and when the workflow itself started.

export interface ActivityTiming {
  type: string;
  waitMs: number;
  runMs: number;
}

export const eventMs = (e: HistoryEvent): number => {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
};

export function activityTimings(events: HistoryEvent[]): ActivityTiming[] {
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const out: ActivityTiming[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: eventMs(e) });
    else if (e.activityTaskStartedEventAttributes) started.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), eventMs(e));
    else {
      const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (!closed) continue;
      const sid = Number(closed.scheduledEventId);
      const s = scheduled.get(sid);
      const st = started.get(sid);
      if (s && st !== undefined) out.push({ type: s.type, waitMs: st - s.at, runMs: eventMs(e) - st });
    }
  }
  return out;
}

/** Mean wait and run time per activity type over many histories. */
export function summarise(all: ActivityTiming[]): Record<string, { count: number; waitMs: number; runMs: number }> {
  const acc: Record<string, { count: number; waitMs: number; runMs: number }> = {};
  for (const t of all) {
    const a = (acc[t.type] ??= { count: 0, waitMs: 0, runMs: 0 });
    a.count++;
    a.waitMs += t.waitMs;
    a.runMs += t.runMs;
  }
  for (const a of Object.values(acc)) {
    a.waitMs = Math.round(a.waitMs / a.count);
    a.runMs = Math.round(a.runMs / a.count);
  }
  return acc;
}

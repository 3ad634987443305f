import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import { durationMs } from '../config/duration';
import { driftSweep } from '../../workflows/driftSweep';
import { driftSweepScheduleId, windowSyncScheduleId } from '../../workflows/ids';
import { windowSync } from '../../workflows/windowSync';
import { bounded, type OpsContext } from './context';

// The Temporal Schedules of the ERP side: a window sync since the last successful run (falling back to the past month on
// the first run), and the drift sweep every settings.polling.driftSweepInterval. Setting up again updates them in place.

export interface ScheduleSetup {
  scheduleId: string;
  workflowType: string;
  everyMs: number;
  status: 'created' | 'updated' | 'kept';
}

function definitions(ctx: OpsContext, opts: { windowSyncEvery?: string }): ScheduleOptions[] {
  const windowEvery = durationMs(opts.windowSyncEvery ?? '1d');
  const sweepEvery = durationMs(ctx.config.settings.polling.driftSweepInterval);
  return [
    {
      scheduleId: windowSyncScheduleId(ctx.companyId),
      spec: { intervals: [{ every: windowEvery }] },
      action: {
        type: 'startWorkflow',
        workflowType: windowSync,
        taskQueue: ctx.taskQueue,
        workflowId: `${windowSyncScheduleId(ctx.companyId)}:scheduled`,
        args: [{ companyId: ctx.companyId, window: { kind: 'last_successful_run' }, fallback: { kind: 'past_month' }, by: 'schedule' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    },
    {
      scheduleId: driftSweepScheduleId(ctx.companyId),
      spec: { intervals: [{ every: sweepEvery }] },
      action: {
        type: 'startWorkflow',
        workflowType: driftSweep,
        taskQueue: ctx.taskQueue,
        workflowId: `${driftSweepScheduleId(ctx.companyId)}:scheduled`,
        args: [{ companyId: ctx.companyId, by: 'schedule' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    },
  ];
}

/**
 * Creates both schedules, or updates them when they exist (ScheduleAlreadyRunning); `keepExisting` leaves existing ones
 * as they are (`arsync services start`: an interval an operator chose is not reset to the default).
 */
export async function setupSchedules(ctx: OpsContext, opts: { windowSyncEvery?: string; keepExisting?: boolean } = {}): Promise<ScheduleSetup[]> {
  const out: ScheduleSetup[] = [];
  for (const def of definitions(ctx, opts)) {
    const everyMs = Number((def.spec.intervals as Array<{ every: number }>)[0].every);
    const workflowType = def.action.workflowType as unknown as { name: string };
    try {
      await bounded(ctx, `creating schedule ${def.scheduleId}`, () => ctx.client.schedule.create(def));
      out.push({ scheduleId: def.scheduleId, workflowType: workflowType.name, everyMs, status: 'created' });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      if (opts.keepExisting) {
        const kept = await bounded(ctx, `describing schedule ${def.scheduleId}`, () => ctx.client.schedule.getHandle(def.scheduleId).describe());
        out.push({ scheduleId: def.scheduleId, workflowType: workflowType.name, everyMs: kept.spec.intervals?.[0]?.every ?? everyMs, status: 'kept' });
        continue;
      }
      await bounded(ctx, `updating schedule ${def.scheduleId}`, () =>
        ctx.client.schedule.getHandle(def.scheduleId).update((prev) => ({ ...prev, spec: def.spec, action: def.action, policies: { ...prev.policies, ...def.policies } })),
      );
      out.push({ scheduleId: def.scheduleId, workflowType: workflowType.name, everyMs, status: 'updated' });
    }
  }
  return out;
}

/** Deletes both schedules (runs already started go on). */
export async function removeSchedules(ctx: OpsContext): Promise<Array<{ scheduleId: string; status: 'deleted' | 'absent' }>> {
  const out: Array<{ scheduleId: string; status: 'deleted' | 'absent' }> = [];
  for (const scheduleId of [windowSyncScheduleId(ctx.companyId), driftSweepScheduleId(ctx.companyId)]) {
    try {
      await bounded(ctx, `deleting schedule ${scheduleId}`, () => ctx.client.schedule.getHandle(scheduleId).delete());
      out.push({ scheduleId, status: 'deleted' });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      out.push({ scheduleId, status: 'absent' });
    }
  }
  return out;
}

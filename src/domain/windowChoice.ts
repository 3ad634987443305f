/**
 * What a person (or a schedule) asks the window sync for, turned into the window rule of src/domain/syncWindow.ts.
 * "Last successful run" needs the durable last run; a scheduled run that finds none falls back to the given window instead
 * of failing (the seed's advice: when unsure, a wider window is safe, because rerunning changes nothing already right).
 */

import { SyncWindowError, windowStart, type SyncWindow, type WindowOption } from './syncWindow';

export type WindowChoice =
  | { kind: 'last_successful_run' }
  | { kind: 'past_week' }
  | { kind: 'past_two_weeks' }
  | { kind: 'past_month' }
  | { kind: 'custom'; date: string };

export type FixedWindowChoice = Exclude<WindowChoice, { kind: 'last_successful_run' }>;

export const WINDOW_KINDS = ['last_successful_run', 'past_week', 'past_two_weeks', 'past_month', 'custom'] as const;

export interface ResolvedWindow extends SyncWindow {
  /** The option actually used (the fallback when there was no successful run yet). */
  kind: WindowChoice['kind'];
  fellBack: boolean;
}

export function resolveWindow(
  choice: WindowChoice,
  nowMs: number,
  opts: { lastRunMs?: number | null; fallback?: FixedWindowChoice; utcOffsetMinutes?: number } = {},
): ResolvedWindow {
  const windowOpts = { utcOffsetMinutes: opts.utcOffsetMinutes ?? 0 };
  if (choice.kind === 'last_successful_run') {
    const lastRunMs = opts.lastRunMs ?? null;
    if (lastRunMs === null && opts.fallback) return { ...windowStart(opts.fallback, nowMs, windowOpts), kind: opts.fallback.kind, fellBack: true };
    const option: WindowOption = { kind: 'last_successful_run', lastRunMs };
    return { ...windowStart(option, nowMs, windowOpts), kind: choice.kind, fellBack: false };
  }
  return { ...windowStart(choice, nowMs, windowOpts), kind: choice.kind, fellBack: false };
}

/** The problem with a choice, or null: for API and CLI validation before a run is started. */
export function windowChoiceProblem(choice: WindowChoice, nowMs: number, utcOffsetMinutes = 0): string | null {
  if (choice.kind === 'last_successful_run') return null;
  try {
    windowStart(choice, nowMs, { utcOffsetMinutes });
    return null;
  } catch (err) {
    if (err instanceof SyncWindowError) return err.message;
    throw err;
  }
}

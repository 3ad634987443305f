import { createSystemActivities } from './system';

/** Everything an activity needs from the outside world, injected once by the worker wiring (src/worker/deps.ts). */
export interface ActivityDeps {
  readonly [key: string]: unknown;
}

export function createActivities(_deps: ActivityDeps = {}) {
  const names: string[] = [];
  const activities = {
    ...createSystemActivities(() => names),
  };
  names.push(...Object.keys(activities).sort());
  return activities;
}

export type Activities = ReturnType<typeof createActivities>;

import { sleep } from '@temporalio/workflow';

/**
 * One timer at a time, for a workflow that waits on many things and needs a periodic look: `arm()` starts the timer
 * unless one is running, `due` turns true when it fires, `take()` reads and clears that. A timer per wait would be a
 * billed action on every wake-up; this is one per period.
 */
export function onceTimer(ms: number) {
  let armed = false;
  let fired = false;
  return {
    arm(): void {
      if (armed) return;
      armed = true;
      void sleep(ms).then(() => {
        armed = false;
        fired = true;
      });
    },
    get due(): boolean {
      return fired;
    },
    take(): boolean {
      const was = fired;
      fired = false;
      return was;
    },
  };
}

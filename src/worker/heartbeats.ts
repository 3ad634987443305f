import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Beats per heartbeat timeout: a beat may arrive up to three quarters of the timeout late and the attempt still lives. */
const BEATS_PER_TIMEOUT = 4;

/**
 * Heartbeats every activity that has a heartbeat timeout while it runs, so a worker that dies mid-activity (SIGKILL,
 * OOM, a lost machine) is noticed within that timeout and the attempt retried elsewhere, instead of after its whole
 * start-to-close timeout. The first beat comes a quarter of the timeout in: an activity done before then sends none,
 * and a heartbeat that reaches the server is a billed action. Local activities die with their workflow task and need
 * none.
 */
export const heartbeatWhileRunning: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const timeoutMs = ctx.info.heartbeatTimeoutMs ?? 0;
      if (ctx.info.isLocal || timeoutMs <= 0) return next(input);
      const beat = () => {
        try {
          ctx.heartbeat();
        } catch {
          // A timer callback must not throw (it would end the process); a beat lost only lets the attempt time out.
        }
      };
      const timer = setInterval(beat, timeoutMs / BEATS_PER_TIMEOUT);
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  },
});

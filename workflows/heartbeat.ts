/**
 * The heartbeat timeout of every regular activity. The worker heartbeats an activity every quarter of it while it
 * runs (src/worker/heartbeats.ts), so an attempt lost with its worker (SIGKILL, OOM, a lost machine) is retried after
 * this long instead of after its whole start-to-close timeout, which for the watchers and sweeps is minutes. Activities
 * done within a quarter of it send no heartbeat at all (a heartbeat reaching the server is a billed action).
 */
export const HEARTBEAT_TIMEOUT = '10s';

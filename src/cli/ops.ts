import { opsContext, type OpsContext } from '../operations/context';
import { withTemporal } from './context';

/** A query or update waits for a worker; the CLI gives up after this long instead of hanging. */
export const CLI_CALL_TIMEOUT_MS = 60_000;

/** Runs an operation against the configured Temporal server (no API process needed). */
export function withOps<T>(fn: (ctx: OpsContext) => Promise<T>): Promise<T> {
  return withTemporal(({ client, config }) => fn(opsContext(client, config, { callTimeoutMs: CLI_CALL_TIMEOUT_MS })));
}

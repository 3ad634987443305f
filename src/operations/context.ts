import { randomUUID } from 'node:crypto';
import { isGrpcDeadlineError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { Config } from '../config/load';
import type { Target } from '../temporal/starters';

/** What every operation needs: the Temporal client, the task queue, the ERP company. Shared by the API and the CLI. */
export interface OpsContext extends Target {
  client: Client;
  config: Config;
  companyId: string;
  /**
   * How long one call to Temporal (a start, a query, an update) may take. A query or update waits for a worker; with no
   * worker running it would wait indefinitely, so the API bounds it and answers 504 instead. Unset: no bound.
   */
  callTimeoutMs?: number;
}

export function opsContext(client: Client, config: Config, opts: { callTimeoutMs?: number } = {}): OpsContext {
  return { client, config, taskQueue: config.env.TEMPORAL_TASK_QUEUE, companyId: config.env.BC_COMPANY_ID, callTimeoutMs: opts.callTimeoutMs };
}

/** A request the caller got wrong (unknown id, wrong state), or one the workflow did not answer in time (504). */
export class OperationError extends Error {
  override readonly name = 'OperationError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 504 = 400,
  ) {
    super(message);
  }
}

/**
 * Runs one Temporal call within ctx.callTimeoutMs. A missed deadline becomes a 504 OperationError: the request may still
 * take effect once a worker picks it up (starts and updates are keyed by business ids, so repeating it is safe).
 */
export async function bounded<T>(ctx: OpsContext, what: string, fn: () => Promise<T>): Promise<T> {
  if (!ctx.callTimeoutMs) return fn();
  try {
    return await ctx.client.withDeadline(Date.now() + ctx.callTimeoutMs, fn);
  } catch (err) {
    if (isGrpcDeadlineError(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new OperationError(`${what}: no answer from the workflow within ${ctx.callTimeoutMs} ms (is a worker running?)`, 504);
    }
    throw err;
  }
}

/** The server's answer when the workflow task that carried an Update failed (e.g. new events arrived as it completed). */
const UPDATE_TASK_FAILED = /unexpected workflow task failure/i;

/**
 * An Update, sent again (under the same update id, so the workflow takes it once) when the server reports that the
 * workflow task carrying it failed: the run goes on and takes the Update in its next task. A few tries, briefly apart.
 */
export async function executeUpdateOnce<T>(send: (updateId: string) => Promise<T>): Promise<T> {
  const updateId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await send(updateId);
    } catch (err) {
      const text = `${err instanceof Error ? err.message : ''} ${err instanceof Error && err.cause instanceof Error ? err.cause.message : ''}`;
      if (attempt >= 4 || !UPDATE_TASK_FAILED.test(text)) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/**
 * What a "workflow not found" means for the caller: the id is unknown (404), or its workflow has ended and no longer takes
 * updates (409, with how it ended).
 */
export async function notFoundOrEnded(ctx: OpsContext, workflowId: string, what: string, unknown: string): Promise<OperationError> {
  try {
    const d = await bounded(ctx, what, () => ctx.client.workflow.getHandle(workflowId).describe());
    return new OperationError(`${what} has ended (${d.status.name.toLowerCase()}); nothing more can be changed on it`, 409);
  } catch {
    return new OperationError(unknown, 404);
  }
}

/** Runs fn over items with at most `limit` in flight, keeping the input order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

import { ApplicationFailure } from '@temporalio/common';
import { ExternalServiceError } from '../src/adapters/http/errors';

/** The longest Retry-After honoured as the next attempt's delay (a longer one is a misconfigured server, not a plan). */
const MAX_NEXT_RETRY_DELAY_MS = 15 * 60_000;

/**
 * Runs an activity body and classifies what it throws: a permanent ExternalServiceError (4xx other than 408/429, a
 * response of the wrong shape) becomes a non-retryable ApplicationFailure whose type names the service and code; a
 * transient one whose service said when to come back (Retry-After, past what the client waits in-process) is retried
 * then, not on the retry policy's shorter backoff; everything else is left to Temporal's retry policy (with backoff).
 */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ExternalServiceError) {
      const type = `${err.service}:${err.code ?? err.status ?? 'error'}`;
      const details = [{ service: err.service, status: err.status ?? null, code: err.code ?? null }];
      if (!err.retryable) throw ApplicationFailure.create({ message: err.message, type, nonRetryable: true, details });
      if (err.retryAfterMs !== undefined && err.retryAfterMs > 0) {
        const nextRetryDelay = Math.min(err.retryAfterMs, MAX_NEXT_RETRY_DELAY_MS);
        throw ApplicationFailure.create({ message: err.message, type, nonRetryable: false, details, nextRetryDelay });
      }
    }
    throw err;
  }
}

/** A permanent failure of our own making (bad input that retrying cannot fix). */
export function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

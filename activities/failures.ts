import { ApplicationFailure } from '@temporalio/common';
import { ExternalServiceError } from '../src/adapters/http/errors';

/**
 * Runs an activity body and classifies what it throws: a permanent ExternalServiceError (4xx other than 408/429, a
 * response of the wrong shape) becomes a non-retryable ApplicationFailure whose type names the service and code;
 * everything else is left to Temporal's retry policy (with backoff).
 */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ExternalServiceError && !err.retryable) {
      throw ApplicationFailure.create({
        message: err.message,
        type: `${err.service}:${err.code ?? err.status ?? 'error'}`,
        nonRetryable: true,
        details: [{ service: err.service, status: err.status ?? null, code: err.code ?? null }],
      });
    }
    throw err;
  }
}

/** A permanent failure of our own making (bad input that retrying cannot fix). */
export function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

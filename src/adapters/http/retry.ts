import { ExternalServiceError } from './errors';

export interface RetryOptions {
  /** Attempts in this process before the error goes up (to Temporal's own retry policy). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Caps a Retry-After the server asks for, so one call never blocks an activity for minutes. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000, maxRetryAfterMs: 30000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `call` and retries transient ExternalServiceErrors with exponential backoff and jitter, honouring Retry-After.
 * Permanent errors and unknown errors go straight up.
 */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, opts: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      if (!(err instanceof ExternalServiceError) || !err.retryable || attempt >= opts.attempts) throw err;
      const backoff = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** (attempt - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const wait = err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, opts.maxRetryAfterMs) : jittered;
      await sleep(wait);
    }
  }
}

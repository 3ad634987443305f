// Failure classification shared by every outbound adapter. Activities turn a non-retryable ExternalServiceError into a
// non-retryable ApplicationFailure (see activities/failures.ts); everything else is retried by Temporal with backoff.

export type ServiceName = 'business-central' | 'invoice-ninja' | 'smtp' | 'sms';

export class ExternalServiceError extends Error {
  override readonly name = 'ExternalServiceError';
  constructor(
    readonly service: ServiceName,
    message: string,
    readonly opts: {
      status?: number;
      /** The service's own error code (Business Central `error.code`, Invoice Ninja message key). */
      code?: string;
      retryable: boolean;
      /** Milliseconds the service asked us to wait (Retry-After). */
      retryAfterMs?: number;
    },
  ) {
    super(message);
  }
  get status(): number | undefined {
    return this.opts.status;
  }
  get code(): string | undefined {
    return this.opts.code;
  }
  get retryable(): boolean {
    return this.opts.retryable;
  }
  get retryAfterMs(): number | undefined {
    return this.opts.retryAfterMs;
  }
}

/** A response body that does not match the documented shape: permanent until someone changes code. */
export class ResponseShapeError extends ExternalServiceError {
  constructor(service: ServiceName, what: string, issues: string) {
    super(service, `${service} returned an unexpected ${what}: ${issues}`, { retryable: false, code: 'unexpected_response' });
  }
}

/** 408, 429 and 5xx are transient; every other 4xx is permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | undefined | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

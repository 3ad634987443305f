import axios, { type AxiosInstance, type AxiosRequestConfig, isAxiosError } from 'axios';
import type { z } from 'zod';
import { ExternalServiceError, isTransientStatus, parseRetryAfter, ResponseShapeError } from '../http/errors';
import { RequestLimiter } from '../http/limiter';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from '../http/retry';
import { errorBodySchema } from './schemas';

// HTTP to one Invoice Ninja connection: the headers the API needs to answer JSON (X-Requested-With and Accept, else
// Laravel redirects), a shared per-connection limiter, retries of transient failures, and errors classified into
// ExternalServiceError with the portal's own message.

export interface TransportConfig {
  baseUrl: string;
  apiToken: string;
  timeoutMs?: number;
  /** Requests per minute for this connection (hosted Invoice Ninja allows 800/min per IP). */
  ratePerMinute?: number;
  maxConcurrent?: number;
  retry?: Partial<RetryOptions>;
  /** Wait after a 429 without Retry-After (the contract advises backing off; hosted sends none). */
  rateLimitBackoffMs?: number;
}

/** The duplicate-request guard's window (1 s cache key) plus a margin. */
export const DUPLICATE_GUARD_WAIT_MS = 1100;

const limiters = new Map<string, RequestLimiter>();

/** One limiter per connection, shared by every client object created for it. */
function limiterFor(cfg: TransportConfig): RequestLimiter {
  const key = `${cfg.baseUrl}|${cfg.ratePerMinute ?? 800}|${cfg.maxConcurrent ?? 4}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new RequestLimiter({ maxConcurrent: cfg.maxConcurrent ?? 4, ratePerInterval: cfg.ratePerMinute ?? 800, intervalMs: 60_000 });
    limiters.set(key, limiter);
  }
  return limiter;
}

const NETWORK_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_NETWORK', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

function describeErrors(errors: unknown): string {
  if (!errors || typeof errors !== 'object' || Array.isArray(errors)) return '';
  const parts = Object.entries(errors as Record<string, unknown>).map(([field, msgs]) => `${field}: ${Array.isArray(msgs) ? msgs.join(' ') : String(msgs)}`);
  return parts.join('; ');
}

/** A 422 naming only a unique field (`idempotency_key`, `number`) is a clash with an existing record, not bad data. */
function takenField(errors: unknown): string {
  const fields = errors && typeof errors === 'object' && !Array.isArray(errors) ? Object.keys(errors) : [];
  if (fields.includes('idempotency_key')) return 'idempotency_key_taken';
  if (fields.length === 1 && fields[0] === 'number') return 'number_taken';
  return 'validation_failed';
}

/** Maps an HTTP failure to a typed error: what is worth retrying, and the portal's own words. */
export function classify(err: unknown, what: string, rateLimitBackoffMs: number): ExternalServiceError {
  if (err instanceof ExternalServiceError) return err;
  if (!isAxiosError(err)) return new ExternalServiceError('invoice-ninja', `${what}: ${String(err)}`, { retryable: false });
  const res = err.response;
  if (!res) {
    const code = err.code ?? 'network';
    const retryable = NETWORK_CODES.has(code) || /timeout/i.test(err.message);
    return new ExternalServiceError('invoice-ninja', `${what}: ${err.message}`, { retryable, code: retryable ? 'network' : code });
  }
  const status = res.status;
  const parsed = errorBodySchema.safeParse(res.data);
  const message = parsed.success && parsed.data.message ? parsed.data.message : `HTTP ${status}`;
  const fields = parsed.success ? describeErrors(parsed.data.errors) : '';
  const text = `${what}: Invoice Ninja answered ${status} ${message}${fields ? ` (${fields})` : ''}`;
  const retryAfterMs = parseRetryAfter(res.headers?.['retry-after'] as string | undefined);

  if (status >= 300 && status < 400) {
    // Laravel redirects instead of answering JSON when it thinks the caller is a browser.
    return new ExternalServiceError('invoice-ninja', `${what}: Invoice Ninja redirected (${status}) instead of answering JSON`, { status, retryable: false, code: 'redirect' });
  }
  if (status === 400 && message === 'Duplicate request') {
    return new ExternalServiceError('invoice-ninja', text, { status, retryable: true, code: 'duplicate_request', retryAfterMs: DUPLICATE_GUARD_WAIT_MS });
  }
  if (status === 429) {
    return new ExternalServiceError('invoice-ninja', text, { status, retryable: true, code: 'rate_limited', retryAfterMs: retryAfterMs ?? rateLimitBackoffMs });
  }
  if (isTransientStatus(status)) return new ExternalServiceError('invoice-ninja', text, { status, retryable: true, code: 'server_error', retryAfterMs });
  let code = 'bad_request';
  if (status === 401) code = 'unauthorized';
  else if (status === 403) code = 'forbidden';
  else if (status === 404) code = 'route_not_found';
  else if (status === 422) code = takenField(parsed.success ? parsed.data.errors : undefined);
  else if (status === 400 && /No query results/i.test(message)) code = 'not_found';
  else if (status === 400 && /Record is deleted/i.test(message)) code = 'record_deleted';
  return new ExternalServiceError('invoice-ninja', text, { status, retryable: false, code });
}

export class Transport {
  private readonly http: AxiosInstance;
  private readonly limiter: RequestLimiter;
  private readonly retry: RetryOptions;
  private readonly rateLimitBackoffMs: number;

  constructor(cfg: TransportConfig) {
    this.http = axios.create({
      baseURL: `${cfg.baseUrl.replace(/\/$/, '')}/api/v1`,
      timeout: cfg.timeoutMs ?? 30_000,
      maxRedirects: 0,
      headers: {
        'X-API-TOKEN': cfg.apiToken,
        'X-Requested-With': 'XMLHttpRequest',
        Accept: 'application/json',
      },
    });
    this.limiter = limiterFor(cfg);
    this.retry = { ...DEFAULT_RETRY, ...cfg.retry };
    this.rateLimitBackoffMs = cfg.rateLimitBackoffMs ?? 10_000;
  }

  /** Sends one request (retrying transient failures) and validates the body against `schema`. */
  async request<S extends z.ZodType>(what: string, config: AxiosRequestConfig, schema: S): Promise<z.infer<S>> {
    const data = await withRetry(async () => {
      try {
        const withBody = config.data === undefined || config.headers?.['Content-Type'] ? config : { ...config, headers: { ...config.headers, 'Content-Type': 'application/json' } };
        const res = await this.limiter.run(() => this.http.request(withBody));
        return res.data as unknown;
      } catch (err) {
        throw classify(err, what, this.rateLimitBackoffMs);
      }
    }, this.retry);
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      throw new ResponseShapeError('invoice-ninja', `${what} response`, issues);
    }
    return parsed.data;
  }
}

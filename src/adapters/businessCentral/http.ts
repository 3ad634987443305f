import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { ExternalServiceError, ResponseShapeError, isTransientStatus, parseRetryAfter } from '../http/errors';
import { RequestLimiter } from '../http/limiter';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../http/retry';
import { DEFAULTS, type BusinessCentralConfig } from './config';
import { TokenProvider } from './token';

// One HTTP request to Business Central: bearer token (refreshed once on 401), the environment's concurrency and
// rate limit, retries of transient failures (honouring Retry-After), BC error classification, and zod validation of
// every response body.

export interface Logger {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}

const bcErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const limiters = new Map<string, RequestLimiter>();

/** Limits are per environment (and principal), shared by every client instance in the process. */
function limiterFor(cfg: BusinessCentralConfig): RequestLimiter {
  const key = `${cfg.baseUrl}|${cfg.tenantId}|${cfg.environment}|${cfg.clientId}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new RequestLimiter({
      maxConcurrent: cfg.maxConcurrent ?? DEFAULTS.maxConcurrent,
      ratePerInterval: cfg.ratePerMinute ?? DEFAULTS.ratePerMinute,
      intervalMs: 60_000,
    });
    limiters.set(key, limiter);
  }
  return limiter;
}

export interface RequestOptions<T> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A function is called once, when the request first goes out (a batch of lookups closes then). */
  url: string | (() => string);
  /** What is being fetched, for error messages ("sales invoice PS-INV1001"). */
  what: string;
  body?: unknown;
  headers?: Record<string, string>;
  schema?: z.ZodType<T, unknown>;
  binary?: boolean;
}

/** A request as it goes out: its URL settled. */
type SentRequest<T> = Omit<RequestOptions<T>, 'url'> & { url: string };

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export class BcHttp {
  private readonly axios: AxiosInstance;
  private readonly limiter: RequestLimiter;
  private readonly retry: RetryOptions;

  constructor(
    cfg: BusinessCentralConfig,
    private readonly tokens: TokenProvider,
    private readonly logger?: Logger,
  ) {
    this.axios = axios.create({ timeout: cfg.timeoutMs ?? DEFAULTS.timeoutMs, validateStatus: () => true, maxRedirects: 0 });
    this.limiter = limiterFor(cfg);
    this.retry = { ...DEFAULT_RETRY, ...cfg.retry };
  }

  async request<T>(opts: RequestOptions<T>): Promise<T> {
    let url: string | undefined;
    const sent = (): SentRequest<T> => ({ ...opts, url: (url ??= typeof opts.url === 'function' ? opts.url() : opts.url) });
    return withRetry(async (attempt) => {
      try {
        return await this.limiter.run(() => this.once(sent()));
      } catch (err) {
        if (err instanceof ExternalServiceError && err.retryable)
          this.logger?.warn?.({ what: opts.what, attempt, status: err.status, code: err.code }, 'business central call failed, retrying');
        throw err;
      }
    }, this.retry);
  }

  private async send(opts: SentRequest<unknown>, token: string): Promise<AxiosResponse> {
    try {
      return await this.axios.request({
        method: opts.method,
        url: opts.url,
        data: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        responseType: opts.binary ? 'arraybuffer' : 'json',
        headers: {
          authorization: `Bearer ${token}`,
          accept: opts.binary ? '*/*' : 'application/json',
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      });
    } catch (err) {
      const code = axios.isAxiosError(err) ? (err.code ?? 'network_error') : 'network_error';
      const timeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      throw new ExternalServiceError('business-central', `${opts.method} ${opts.what}: ${timeout ? 'timed out' : (err as Error).message}`, {
        retryable: true,
        code: timeout ? 'timeout' : code,
      });
    }
  }

  private async once<T>(opts: SentRequest<T>): Promise<T> {
    let token = await this.tokens.get();
    let res = await this.send(opts, token);
    if (res.status === 401) {
      // The token may have been revoked or expired early: one fresh token, one more try.
      this.tokens.invalidate(token);
      token = await this.tokens.get();
      res = await this.send(opts, token);
    }
    if (res.status >= 200 && res.status < 300) {
      if (opts.binary) return Buffer.from(res.data as ArrayBuffer) as unknown as T;
      if (!opts.schema) return undefined as T;
      const parsed = opts.schema.safeParse(res.status === 204 ? undefined : res.data);
      if (!parsed.success) throw new ResponseShapeError('business-central', `response for ${opts.what}`, describeIssues(parsed.error));
      return parsed.data;
    }
    throw this.toError(opts, res);
  }

  private toError(opts: RequestOptions<unknown>, res: AxiosResponse): ExternalServiceError {
    let data: unknown = res.data;
    if (opts.binary && data) {
      try {
        data = JSON.parse(Buffer.from(data as ArrayBuffer).toString('utf8'));
      } catch {
        data = undefined;
      }
    }
    const body = bcErrorBody.safeParse(data);
    const code = body.success ? body.data.error.code : `http_${res.status}`;
    const message = body.success ? body.data.error.message : `HTTP ${res.status}`;
    return new ExternalServiceError('business-central', `${opts.method} ${opts.what} failed (${res.status} ${code}): ${message}`, {
      status: res.status,
      code,
      retryable: isTransientStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers['retry-after'] as string | undefined),
    });
  }
}

import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { ExternalServiceError, ResponseShapeError, isTransientStatus, parseRetryAfter } from '../http/errors';

// OAuth2 client-credentials tokens from Microsoft Entra ID. One request at a time; a token is reused until shortly
// before it expires (a minute, or half its lifetime when shorter) and dropped when an API call answers 401.

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).transform(Number),
});

const entraError = z.object({ error: z.string(), error_description: z.string().optional() }).loose();

export class TokenProvider {
  private token: { value: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly http: AxiosInstance;

  constructor(
    private readonly opts: { tokenUrl: string; clientId: string; clientSecret: string; scope: string; timeoutMs: number },
  ) {
    this.http = axios.create({ timeout: opts.timeoutMs, validateStatus: () => true });
  }

  async get(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(value: string): void {
    if (this.token?.value === value) this.token = undefined;
  }

  private async fetch(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: this.opts.scope,
    }).toString();
    let res;
    try {
      res = await this.http.post(this.opts.tokenUrl, body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    } catch (err) {
      throw new ExternalServiceError('business-central', `token request failed: ${(err as Error).message}`, { retryable: true, code: 'token_unreachable' });
    }
    if (res.status >= 200 && res.status < 300) {
      const parsed = tokenResponse.safeParse(res.data);
      if (!parsed.success) throw new ResponseShapeError('business-central', 'token response', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const lifetimeMs = parsed.data.expires_in * 1000;
      this.token = { value: parsed.data.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
      return parsed.data.access_token;
    }
    const err = entraError.safeParse(res.data);
    const code = err.success ? err.data.error : `http_${res.status}`;
    // Entra's description carries trace ids, never the secret.
    const description = err.success ? (err.data.error_description ?? '').split('\r\n')[0] : '';
    throw new ExternalServiceError('business-central', `token request rejected (${res.status} ${code}) ${description}`.trim(), {
      status: res.status,
      code,
      retryable: isTransientStatus(res.status),
      retryAfterMs: parseRetryAfter(res.headers['retry-after'] as string | undefined),
    });
  }
}

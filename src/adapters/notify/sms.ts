import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { z } from 'zod';
import { ExternalServiceError, isTransientStatus, parseRetryAfter, ResponseShapeError } from '../http/errors';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../http/retry';

// Sends text messages through an HTTP SMS provider with Twilio's Messages API shape (POST
// /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, HTTP Basic sid:token). Each send carries an
// Idempotency-Key header so a retried request is answered with the first message instead of a second text.

export interface SmsSenderOptions {
  /** e.g. https://api.twilio.com, or the sink's http://127.0.0.1:4030 */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Sender number (E.164) or alphanumeric sender id. */
  from: string;
  timeoutMs?: number;
  retry?: RetryOptions;
}

export interface SmsMessage {
  /** Recipient in E.164, e.g. +15551234567. */
  to: string;
  body: string;
  /** Stable for one logical send; a retry reuses it. */
  idempotencyKey: string;
}

export interface SmsSendResult {
  sid: string;
  status: string;
  to: string;
  from: string;
  segments: number;
  /** True when the provider answered with an earlier message for the same idempotency key. */
  replayed: boolean;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<SmsSendResult>;
}

const messageSchema = z.object({
  to: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +15551234567'),
  body: z.string().min(1).max(1600),
  idempotencyKey: z.string().min(1).max(255),
});

// The provider's Message resource, only the fields we use.
const messageResourceSchema = z.object({
  sid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  status: z.string().min(1),
  to: z.string(),
  from: z.string().nullable(),
  num_segments: z.coerce.number().int().min(0),
});

const providerErrorSchema = z.object({ code: z.number().int(), message: z.string() });

const issuesText = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');

function providerError(res: AxiosResponse<unknown>): ExternalServiceError {
  const body = providerErrorSchema.safeParse(res.data);
  const detail = body.success ? `${body.data.message} (error ${body.data.code})` : `HTTP ${res.status}`;
  return new ExternalServiceError('sms', `SMS provider refused the message: ${detail}`, {
    status: res.status,
    code: body.success ? String(body.data.code) : undefined,
    retryable: isTransientStatus(res.status),
    retryAfterMs: parseRetryAfter(res.headers['retry-after'] as string | undefined),
  });
}

async function post(http: AxiosInstance, path: string, form: URLSearchParams, key: string): Promise<AxiosResponse<unknown>> {
  try {
    return await http.post(path, form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': key },
    });
  } catch (err) {
    // No response at all: refused, reset or timed out. The idempotency key makes resending safe.
    const code = axios.isAxiosError(err) ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    throw new ExternalServiceError('sms', `SMS provider unreachable: ${message}`, { code, retryable: true });
  }
}

export function createSmsSender(opts: SmsSenderOptions): SmsSender {
  const http = axios.create({
    baseURL: opts.baseUrl.replace(/\/+$/, ''),
    timeout: opts.timeoutMs ?? 15000,
    auth: { username: opts.accountSid, password: opts.authToken },
    // Every status is classified below, so axios never throws for one.
    validateStatus: () => true,
    maxRedirects: 0,
  });
  const path = `/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Messages.json`;

  return {
    async send(input) {
      const parsed = messageSchema.safeParse(input);
      if (!parsed.success) {
        throw new ExternalServiceError('sms', `Invalid SMS message: ${issuesText(parsed.error)}`, {
          retryable: false,
          code: 'invalid_message',
        });
      }
      const m = parsed.data;
      const form = new URLSearchParams({ To: m.to, From: opts.from, Body: m.body });
      const res = await withRetry(async () => {
        const r = await post(http, path, form, m.idempotencyKey);
        if (r.status < 200 || r.status >= 300) throw providerError(r);
        return r;
      }, opts.retry ?? DEFAULT_RETRY);
      const resource = messageResourceSchema.safeParse(res.data);
      if (!resource.success) throw new ResponseShapeError('sms', 'message resource', issuesText(resource.error));
      return {
        sid: resource.data.sid,
        status: resource.data.status,
        to: resource.data.to,
        from: resource.data.from ?? opts.from,
        segments: resource.data.num_segments,
        replayed: String(res.headers['idempotent-replayed'] ?? '') === 'true',
      };
    },
  };
}

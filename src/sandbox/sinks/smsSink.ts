import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { FaultInjector } from '../common/faults';
import type { SinkRules, SinkStore, StoredSms } from './store';

// An SMS provider imitation with the shape of Twilio's Programmable Messaging API (2010-04-01), the most widely
// copied SMS HTTP API:
//   POST /2010-04-01/Accounts/{AccountSid}/Messages.json   form-encoded To, From, Body; HTTP Basic AccountSid:AuthToken
//        → 201 with the Message resource (sid "SM…", status "queued", RFC 2822 dates, snake_case fields)
//   GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json → the Message resource
// Errors use Twilio's body {code, message, more_info, status} and its codes (20003 auth, 21211 bad To, 21602 no Body,
// 21610 unsubscribed recipient, 21617 body too long, 20429 throttled). One addition Twilio does not have: an
// `Idempotency-Key` request header; a repeated key for the same account answers the first message again (with
// `Idempotent-Replayed: true`) and stores nothing new.

const API_PREFIX = '/2010-04-01/Accounts/';
const E164 = /^\+[1-9]\d{6,14}$/;
/** A phone number, or an alphanumeric sender id (up to 11 characters, at least one letter). */
const SENDER = /^(\+[1-9]\d{6,14}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/;
const MAX_BODY = 1600;

interface TwilioErrorSpec {
  status: number;
  code: number;
  message: string;
}

export function sendTwilioError(reply: FastifyReply, e: TwilioErrorSpec): FastifyReply {
  return reply.code(e.status).send({
    code: e.code,
    message: e.message,
    more_info: `https://www.twilio.com/docs/errors/${e.code}`,
    status: e.status,
  });
}

const messageForm = z.object({
  To: z.string().min(1).regex(E164),
  From: z.string().min(1).regex(SENDER),
  Body: z.string().min(1).max(MAX_BODY),
});

/** The provider's error for the first problem zod found, naming the field the way the provider does. */
function formError(issue: z.ZodIssue, form: Record<string, string>): TwilioErrorSpec {
  const field = String(issue.path[0]);
  const missing = !form[field];
  const table: Record<string, [number, string, number, string]> = {
    To: [21604, "A 'To' phone number is required.", 21211, `Invalid 'To' Phone Number: ${form.To}`],
    From: [21603, "A 'From' phone number is required.", 21212, `Invalid 'From' Number: ${form.From}`],
    Body: [21602, 'Message body is required.', 21617, 'The concatenated message body exceeds the 1600 character limit.'],
  };
  const row = table[field] ?? [21600, `Invalid parameter ${field}`, 21600, `Invalid parameter ${field}`];
  return missing ? { status: 400, code: row[0], message: row[1] } : { status: 400, code: row[2], message: row[3] };
}

/** Segments as a carrier would bill them; treats printable ASCII as GSM-7 (close enough for a sink). */
export function countSegments(body: string): number {
  const gsm = /^[\x20-\x7E\r\n]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  const length = [...body].length;
  return length <= single ? 1 : Math.ceil(length / multi);
}

const rfc2822 = (iso: string | null) => (iso ? new Date(iso).toUTCString().replace('GMT', '+0000') : null);

/** The Twilio Message resource for a stored message. */
export function toMessageResource(m: StoredSms) {
  const uri = `${API_PREFIX}${m.accountSid}/Messages/${m.sid}.json`;
  return {
    sid: m.sid,
    account_sid: m.accountSid,
    messaging_service_sid: null,
    to: m.to,
    from: m.from,
    body: m.body,
    status: m.status,
    num_segments: String(m.numSegments),
    num_media: '0',
    direction: 'outbound-api',
    api_version: '2010-04-01',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    date_created: rfc2822(m.createdAt),
    date_updated: rfc2822(m.createdAt),
    date_sent: m.status === 'delivered' ? rfc2822(m.createdAt) : null,
    uri,
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Basic auth `AccountSid:AuthToken`; the account in the path must be the one authenticated. */
function authenticated(header: string | undefined, pathSid: string, sid: string, token: string): boolean {
  const m = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return sameSecret(decoded.slice(0, colon), sid) && sameSecret(decoded.slice(colon + 1), token) && pathSid === sid;
}

const idempotencyKey = z.string().min(1).max(255).optional();

/** The provider API, in its own fastify scope: form bodies, Twilio-shaped errors and injected faults stay inside it. */
export function registerSmsProvider(
  app: FastifyInstance,
  opts: { store: SinkStore; accountSid: string; authToken: string; rules: () => SinkRules; faults: FaultInjector },
): void {
  const { store } = opts;
  void app.register(async (api) => {
    api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      const form: Record<string, string> = {};
      // The first value wins when a field repeats, as Twilio reads single-valued parameters.
      for (const [k, v] of new URLSearchParams(body as string)) if (!(k in form)) form[k] = v;
      done(null, form);
    });
    api.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      return sendTwilioError(reply, { status, code: status === 500 ? 20500 : 20001, message: err.message });
    });
    opts.faults.install(api, () => true, (reply, status, message) =>
      sendTwilioError(reply, { status, code: status === 429 ? 20429 : 20500, message }),
    );
    api.addHook('preHandler', async (req, reply) => {
      const pathSid = (req.params as { accountSid?: string }).accountSid ?? '';
      if (!authenticated(req.headers.authorization, pathSid, opts.accountSid, opts.authToken)) {
        reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
        return sendTwilioError(reply, { status: 401, code: 20003, message: 'Authenticate' });
      }
    });

    api.post(`${API_PREFIX}:accountSid/Messages.json`, async (req, reply) => {
      const accountSid = opts.accountSid;
      const key = idempotencyKey.safeParse(req.headers['idempotency-key']);
      if (!key.success) {
        return sendTwilioError(reply, { status: 400, code: 20001, message: 'Idempotency-Key must be 1 to 255 characters' });
      }
      if (key.data !== undefined) {
        const first = store.smsByIdempotencyKey(accountSid, key.data);
        if (first) return reply.code(201).header('Idempotent-Replayed', 'true').send(toMessageResource(first));
      }
      const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
      const parsed = messageForm.safeParse(form);
      if (!parsed.success) return sendTwilioError(reply, formError(parsed.error.issues[0]!, form));
      const { To, From, Body } = parsed.data;
      if (opts.rules().rejectSms.some((n) => n.replace(/\D/g, '') === To.replace(/\D/g, ''))) {
        return sendTwilioError(reply, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
      }
      const sms: StoredSms = {
        sid: `SM${randomBytes(16).toString('hex')}`,
        accountSid,
        to: To,
        from: From,
        body: Body,
        status: 'queued',
        numSegments: countSegments(Body),
        idempotencyKey: key.data ?? null,
        createdAt: new Date().toISOString(),
      };
      store.addSms(sms);
      const created = toMessageResource(sms);
      // The sink "delivers" at once; a later fetch shows the message delivered.
      sms.status = 'delivered';
      store.sms.touch();
      return reply.code(201).send(created);
    });

    api.get(`${API_PREFIX}:accountSid/Messages/:file`, async (req, reply) => {
      const sid = (req.params as { file: string }).file.replace(/\.json$/, '');
      const sms = store.findSms(sid);
      if (!sms) {
        return sendTwilioError(reply, { status: 404, code: 20404, message: `The requested resource ${req.url} was not found` });
      }
      return toMessageResource(sms);
    });
  });
}

const listQuery = z.object({ to: z.string().optional() });

/** The sink's own inspection routes: `GET /sms` (newest first, `?to=`), `DELETE /sms`. */
export function registerSmsRoutes(app: FastifyInstance, store: SinkStore): void {
  app.get('/sms', async (req) => store.listSms(listQuery.parse(req.query).to));
  app.delete('/sms', async (_req, reply) => {
    store.clearSms();
    return reply.code(204).send();
  });
}

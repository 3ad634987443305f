import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { z } from 'zod';
import { ExternalServiceError, ResponseShapeError } from '../http/errors';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../http/retry';
import { composeMime } from './mime';

// Sends mail through an SMTP relay. Every message carries a Message-ID derived from its idempotency key, so a retry
// of the same send is recognisable downstream (mail clients and our sink group by Message-ID). Failures become
// ExternalServiceError('smtp'): 4xx replies and broken connections are transient, 5xx replies permanent.

export interface EmailSenderOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  user?: string;
  password?: string;
  /** Default From, e.g. `"Cronus Billing" <billing@cronus.example>`. */
  from: string;
  /** Refuse to send without STARTTLS on a non-`secure` connection. */
  requireTLS?: boolean;
  /** Bound on connecting, the greeting and each reply; nodemailer's own defaults run to minutes. Default 15 s. */
  timeoutMs?: number;
  /** Connections kept open to the relay (pooled). Default 4. */
  maxConnections?: number;
  retry?: RetryOptions;
}

export interface EmailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
  /** Stable for one logical send (e.g. derived from invoice and send number); a retry reuses it. */
  idempotencyKey: string;
}

export interface EmailSendResult {
  /** The Message-ID header sent, angle brackets included. */
  messageId: string;
  accepted: string[];
  /** Recipients refused while others were accepted (when all are refused, send throws). */
  rejected: string[];
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as …`. */
  response: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<EmailSendResult>;
  close(): void;
}

const messageSchema = z.object({
  to: z.union([z.email(), z.array(z.email()).min(1)]),
  subject: z.string().min(1).max(998),
  text: z.string(),
  html: z.string().optional(),
  replyTo: z.email().optional(),
  idempotencyKey: z.string().min(1).max(500),
});

// What nodemailer's SMTP transport reports for a delivered message.
const sentInfoSchema = z.object({
  messageId: z.string(),
  accepted: z.array(z.union([z.string(), z.object({ address: z.string() })])),
  rejected: z.array(z.union([z.string(), z.object({ address: z.string() })])),
  response: z.string(),
});

const addressOf = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);

/**
 * The Message-ID for an idempotency key: `<key@domain-of-from>`, with every character outside [A-Za-z0-9_-] written as
 * `=XX` (UTF-8 hex) so the id stays a valid RFC 5322 msg-id and distinct keys never collide. Very long keys are hashed.
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'arsync.invalid';
  let local = Array.from(Buffer.from(idempotencyKey, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_-]/.test(c) ? c : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  if (local.length > 200) local = `sha256-${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  return `<${local}@${domain}>`;
}

/** nodemailer codes for a connection that failed or broke, rather than a reply that refused the message. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/**
 * 4xx replies are transient and 5xx permanent (RFC 5321 §4.2.1), except 503 "bad sequence of commands", which
 * describes the session rather than the message and succeeds on a fresh connection. Without a reply, connection
 * failures are transient; anything else (bad address, bad configuration) is permanent.
 */
export function classifySmtpError(err: unknown): ExternalServiceError {
  if (err instanceof ExternalServiceError) return err;
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = `SMTP send failed: ${typeof e.message === 'string' ? e.message : String(err)}`;
  const retryable =
    reply !== undefined ? (reply >= 400 && reply < 500) || reply === 503 : code !== undefined && CONNECTION_CODES.has(code);
  return new ExternalServiceError('smtp', message, { status: reply, code, retryable });
}

export function createEmailSender(opts: EmailSenderOptions): EmailSender {
  const timeout = opts.timeoutMs ?? 15000;
  // Pooled: messages reuse open connections instead of a connect, greeting and EHLO each. A connection the server
  // dropped while idle is replaced by the pool; a send caught by the drop fails as a connection error and is retried.
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: opts.maxConnections ?? 4,
    maxMessages: 500,
    host: opts.host,
    port: opts.port,
    secure: opts.secure,
    requireTLS: opts.requireTLS ?? false,
    auth: opts.user !== undefined ? { user: opts.user, pass: opts.password ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
  });

  return {
    async send(input) {
      const parsed = messageSchema.safeParse(input);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw new ExternalServiceError('smtp', `Invalid email message: ${issues}`, { retryable: false, code: 'invalid_message' });
      }
      const m = parsed.data;
      const messageId = messageIdFor(m.idempotencyKey, opts.from);
      const to = typeof m.to === 'string' ? [m.to] : m.to;
      // Built once for every attempt (the same Date header on a retry, as a relay that saw the first would have it).
      const mime = composeMime({ from: opts.from, to, replyTo: m.replyTo, subject: m.subject, text: m.text, html: m.html, messageId });
      const info = await withRetry(async () => {
        try {
          if (mime) return await transport.sendMail({ envelope: mime.envelope, raw: mime.raw, messageId });
          return await transport.sendMail({
            from: opts.from,
            to: m.to,
            replyTo: m.replyTo,
            subject: m.subject,
            text: m.text,
            html: m.html,
            messageId,
          });
        } catch (err) {
          throw classifySmtpError(err);
        }
      }, opts.retry ?? DEFAULT_RETRY);
      const sent = sentInfoSchema.safeParse(info);
      if (!sent.success) {
        throw new ResponseShapeError('smtp', 'send result', sent.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      }
      return {
        messageId: sent.data.messageId,
        accepted: sent.data.accepted.map(addressOf),
        rejected: sent.data.rejected.map(addressOf),
        response: sent.data.response,
      };
    },
    close() {
      transport.close();
    },
  };
}

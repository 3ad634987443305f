import path from 'node:path';
import { z } from 'zod';
import { JsonStore } from '../common/jsonStore';

// What the sinks keep: every mail accepted over SMTP and every SMS accepted over the provider API, oldest first,
// each in its own JSON file under the data directory so a restart of the sinks finds them again.

export interface StoredMail {
  id: string;
  /** The Message-ID header, angle brackets included (our sender derives it from the idempotency key). */
  messageId: string | null;
  /** True when an earlier stored mail has the same Message-ID: a retried send, not a new one. */
  duplicate: boolean;
  from: string | null;
  fromName: string | null;
  /** Header recipients (To). */
  to: string[];
  cc: string[];
  /** SMTP envelope recipients (RCPT TO), which include Bcc. */
  envelopeTo: string[];
  envelopeFrom: string | null;
  subject: string;
  text: string | null;
  html: string | null;
  /** The Date header, ISO 8601. */
  date: string | null;
  receivedAt: string;
  size: number;
}

export interface StoredSms {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  body: string;
  status: 'queued' | 'delivered';
  numSegments: number;
  idempotencyKey: string | null;
  createdAt: string;
}

interface MailState {
  mail: StoredMail[];
}

interface SmsState {
  sms: StoredSms[];
  /** `${accountSid}:${Idempotency-Key}` → message sid. */
  idempotency: Record<string, string>;
}

/** Oldest entries are dropped past this many, so a long-running sandbox does not grow its files without bound. */
export const MAX_STORED = 1000;

export class SinkStore {
  readonly mail: JsonStore<MailState>;
  readonly sms: JsonStore<SmsState>;

  constructor(dataDir: string | undefined) {
    this.mail = new JsonStore<MailState>(dataDir && path.join(dataDir, 'sink-mail.json'), () => ({ mail: [] }));
    this.sms = new JsonStore<SmsState>(dataDir && path.join(dataDir, 'sink-sms.json'), () => ({ sms: [], idempotency: {} }));
  }

  addMail(mail: Omit<StoredMail, 'duplicate'>): StoredMail {
    const duplicate = mail.messageId !== null && this.mail.state.mail.some((m) => m.messageId === mail.messageId);
    const stored = { ...mail, duplicate };
    this.mail.state.mail.push(stored);
    this.mail.state.mail.splice(0, Math.max(0, this.mail.state.mail.length - MAX_STORED));
    this.mail.touch();
    return stored;
  }

  /** Newest first; `to` matches any header or envelope recipient, case-insensitively. */
  listMail(to?: string): StoredMail[] {
    const want = to?.trim().toLowerCase();
    const all = [...this.mail.state.mail].reverse();
    if (!want) return all;
    return all.filter((m) => [...m.to, ...m.cc, ...m.envelopeTo].some((a) => a.toLowerCase() === want));
  }

  findMail(id: string): StoredMail | undefined {
    return this.mail.state.mail.find((m) => m.id === id);
  }

  clearMail(): void {
    this.mail.state.mail.length = 0;
    this.mail.touch();
  }

  smsByIdempotencyKey(accountSid: string, key: string): StoredSms | undefined {
    const sid = this.sms.state.idempotency[`${accountSid}:${key}`];
    return sid === undefined ? undefined : this.findSms(sid);
  }

  addSms(sms: StoredSms): void {
    this.sms.state.sms.push(sms);
    if (sms.idempotencyKey !== null) this.sms.state.idempotency[`${sms.accountSid}:${sms.idempotencyKey}`] = sms.sid;
    for (const dropped of this.sms.state.sms.splice(0, Math.max(0, this.sms.state.sms.length - MAX_STORED))) {
      if (dropped.idempotencyKey !== null) delete this.sms.state.idempotency[`${dropped.accountSid}:${dropped.idempotencyKey}`];
    }
    this.sms.touch();
  }

  findSms(sid: string): StoredSms | undefined {
    return this.sms.state.sms.find((m) => m.sid === sid);
  }

  /** Newest first; `to` compares digits only, since a `+` in a query string often arrives as a space. */
  listSms(to?: string): StoredSms[] {
    const digits = (s: string) => s.replace(/\D/g, '');
    const want = to ? digits(to) : '';
    const all = [...this.sms.state.sms].reverse();
    return want ? all.filter((m) => digits(m.to) === want) : all;
  }

  clearSms(): void {
    this.sms.state.sms.length = 0;
    this.sms.state.idempotency = {};
    this.sms.touch();
  }

  flush(): void {
    this.mail.flush();
    this.sms.flush();
  }
}

/** Behaviour switches for tests and demos: recipients the sinks refuse, permanently or for now. */
export const sinkRulesSchema = z
  .object({
    /** Mail recipients answered `550 5.1.1` at RCPT TO (permanent). */
    rejectMail: z.array(z.email()).default([]),
    /** Mail recipients answered `451 4.3.0` at RCPT TO (transient). */
    deferMail: z.array(z.email()).default([]),
    /** The next N RCPT TO commands, whatever the address, are answered `451 4.3.0` (a passing hiccup). */
    deferNextMail: z.number().int().min(0).default(0),
    /** SMS numbers answered 400 with provider error 21610 (recipient unsubscribed, permanent). */
    rejectSms: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type SinkRules = z.infer<typeof sinkRulesSchema>;

import { simpleParser, type AddressObject } from 'mailparser';
import type { SinkStore } from './store';

// Mail the SMTP sink accepted, parsed into the store later: when the sink has been quiet for two seconds, when anything
// reads the mailbox, or when it closes. A relay answers 250 once it has the bytes and does its own work afterwards, on
// a machine of its own; parsing (MIME, encodings) during a burst of link emails would take CPU from the senders the
// sink stands in for. The gaps inside a burst of a few hundred invoices run to a few hundred milliseconds, so a shorter
// quiet time parsed in the middle of it.

export interface ReceivedMail {
  id: string;
  raw: Buffer;
  envelopeTo: string[];
  envelopeFrom: string | null;
  receivedAt: string;
}

/** Parsed at once past this many waiting, so a sink that is never quiet never holds much. */
const MAX_WAITING = 500;

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((o) => o.value.flatMap((a) => [a.address, ...(a.group ?? []).map((g) => g.address)]))
    .filter((a): a is string => typeof a === 'string' && a.length > 0);
}

export class MailIntake {
  private readonly waiting: ReceivedMail[] = [];
  private parsing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: SinkStore, private readonly quietMs = 2_000) {}

  receive(mail: ReceivedMail): void {
    this.waiting.push(mail);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length >= MAX_WAITING) void this.settle();
    else {
      this.timer = setTimeout(() => void this.settle(), this.quietMs);
      this.timer.unref();
    }
  }

  /** Everything received so far is in the store, in arrival order, when this resolves. */
  settle(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.parsing = this.parsing.then(() => this.drain());
    return this.parsing;
  }

  /** Forgets mail not parsed yet (the mailbox is being cleared). */
  discard(): void {
    this.waiting.length = 0;
  }

  private async drain(): Promise<void> {
    for (let mail = this.waiting.shift(); mail; mail = this.waiting.shift()) this.store.addMail(await parse(mail));
  }
}

/** Only the fields the sink keeps: no text-to-HTML rendering or link detection per message. */
async function parse(m: ReceivedMail): Promise<Parameters<SinkStore['addMail']>[0]> {
  const base = { id: m.id, envelopeTo: m.envelopeTo, envelopeFrom: m.envelopeFrom, receivedAt: m.receivedAt, size: m.raw.length };
  try {
    const parsed = await simpleParser(m.raw, { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    const from = parsed.from?.value[0];
    return {
      ...base,
      messageId: parsed.messageId ?? null,
      from: from?.address ?? null,
      fromName: from?.name || null,
      to: addresses(parsed.to),
      cc: addresses(parsed.cc),
      subject: parsed.subject ?? '',
      text: parsed.text ?? null,
      html: typeof parsed.html === 'string' ? parsed.html : null,
      date: parsed.date ? parsed.date.toISOString() : null,
    };
  } catch (err) {
    // Accepted is accepted: kept as it came, with why it could not be read.
    return { ...base, messageId: null, from: null, fromName: null, to: [], cc: [], subject: `(unreadable: ${String(err)})`, text: m.raw.toString('utf8'), html: null, date: null };
  }
}

import { simpleParser, type AddressObject } from 'mailparser';
import { composeMime } from '../../src/adapters/notify/mime';
import { createEmailSender } from '../../src/adapters/notify/email';
import type { Sinks, StoredMail } from '../../src/sandbox/sinks';
import { getJson, NO_RETRY, startSinks } from './helpers';

// The link message's MIME text, read back by a mail parser: what a mail client would show.

const single = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a[0] : a)?.value;

describe('composeMime', () => {
  it('writes non-ASCII names, subjects and bodies that a parser reads back as sent', async () => {
    const text = `Guten Tag,\n\nRechnung 103021 über 1.234,56 € ist fällig. ${'Zahlen Sie hier: https://portal.example/client/pay/äöü '.repeat(6)}\n. a line with a leading dot\nDanke.`;
    const html = `<p>Rechnung <b>103021</b> über 1.234,56 €</p><p>${'<a href="https://portal.example/pay?x=1&amp;y=2">zahlen</a> '.repeat(10)}</p>`;
    const date = new Date('2026-11-28T10:00:00Z');
    const mime = composeMime({
      from: '"Crönus Büro" <billing@cronus.example>',
      to: ['ap@adatum.example', '"Finance, AR" <ar@adatum.example>'],
      replyTo: 'Cronus AR <ar@cronus.example>',
      subject: `Rechnung 103021 – Zahlung fällig ${'bis zum 15. Dezember '.repeat(5)}`,
      text,
      html,
      messageId: '<link-1@cronus.example>',
      date,
    });
    expect(mime).not.toBeNull();
    expect(mime!.envelope).toEqual({ from: 'billing@cronus.example', to: ['ap@adatum.example', 'ar@adatum.example'] });
    // Seven-bit, CRLF, no line over 78 characters: what every relay accepts.
    expect(mime!.raw).toMatch(/^[\x00-\x7f]*$/);
    expect(mime!.raw.split('\r\n').every((l) => l.length <= 78 && !l.includes('\n'))).toBe(true);

    const parsed = await simpleParser(mime!.raw);
    expect(single(parsed.from)).toEqual([{ name: 'Crönus Büro', address: 'billing@cronus.example' }]);
    expect(single(parsed.to)).toEqual([
      { name: '', address: 'ap@adatum.example' },
      { name: 'Finance, AR', address: 'ar@adatum.example' },
    ]);
    expect(single(parsed.replyTo)).toEqual([{ name: 'Cronus AR', address: 'ar@cronus.example' }]);
    expect(parsed.subject).toBe(`Rechnung 103021 – Zahlung fällig ${'bis zum 15. Dezember '.repeat(5)}`);
    expect(parsed.messageId).toBe('<link-1@cronus.example>');
    expect(parsed.date?.toISOString()).toBe(date.toISOString());
    expect(parsed.text).toBe(text);
    expect(parsed.html).toBe(html);
  });

  it('keeps a subject with a line break or an encoded-word look-alike to the Subject header, as written', async () => {
    for (const subject of ['Invoice 1\r\nBcc: thief@evil.example', 'Invoice 1\nX-Injected: yes', 'Invoice =?UTF-8?Q?=41?= "quoted"']) {
      const mime = composeMime({ from: 'billing@cronus.example', to: ['ap@adatum.example'], subject, text: 't', messageId: '<k@c.example>' })!;
      const parsed = await simpleParser(mime.raw);
      expect(parsed.subject).toBe(subject);
      expect(parsed.bcc).toBeUndefined();
      expect(parsed.headers.has('x-injected')).toBe(false);
      expect(mime.envelope.to).toEqual(['ap@adatum.example']);
    }
  });

  it('writes a text-only message as a single part', async () => {
    const mime = composeMime({ from: 'billing@cronus.example', to: ['ap@adatum.example'], subject: 'Invoice 1', text: 'Pay here.\nThanks', messageId: '<k@c.example>' })!;
    expect(mime.raw).not.toContain('multipart');
    const parsed = await simpleParser(mime.raw);
    expect(parsed.text).toBe('Pay here.\nThanks');
    expect(parsed.html).toBe(false);
    expect(parsed.headers.get('content-type')).toMatchObject({ value: 'text/plain', params: { charset: 'utf-8' } });
  });

  it('leaves an address that is not plain ASCII to nodemailer', () => {
    expect(composeMime({ from: 'billing@crönus.example', to: ['ap@adatum.example'], subject: 's', text: 't', messageId: '<k@c.example>' })).toBeNull();
    expect(composeMime({ from: 'a@b.example, c@d.example', to: ['ap@adatum.example'], subject: 's', text: 't', messageId: '<k@c.example>' })).toBeNull();
  });
});

describe('email adapter: messages outside the composed shape', () => {
  let sinks: Sinks;
  beforeAll(async () => {
    sinks = await startSinks();
  });
  afterAll(() => sinks.close());

  it('sends them through nodemailer', async () => {
    const sender = createEmailSender({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, from: '"Crönus" <billing@crönus.example>', retry: NO_RETRY });
    try {
      const result = await sender.send({ to: 'ap@adatum.example', subject: 'Rechnung fällig', text: 'über', idempotencyKey: 'idn-1' });
      expect(result.accepted).toEqual(['ap@adatum.example']);
    } finally {
      sender.close();
    }
    const [mail] = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`);
    expect(mail).toMatchObject({ from: 'billing@crönus.example', fromName: 'Crönus', subject: 'Rechnung fällig' });
    expect(mail!.text?.trim()).toBe('über');
  });
});

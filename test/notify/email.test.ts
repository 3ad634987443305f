import net from 'node:net';
import { createEmailSender, messageIdFor, type EmailSender } from '../../src/adapters/notify/email';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import type { Sinks, StoredMail } from '../../src/sandbox/sinks';
import { FAST_RETRY, getJson, NO_RETRY, rejectionOf, startSinks } from './helpers';

const FROM = '"Cronus Billing" <billing@cronus.example>';

describe('email adapter against the SMTP sink', () => {
  let sinks: Sinks;
  let sender: EmailSender;

  beforeAll(async () => {
    sinks = await startSinks({ rules: { rejectMail: ['gone@customer.example'], deferMail: ['busy@customer.example'] } });
    sender = createEmailSender({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, from: FROM, retry: NO_RETRY });
  });
  afterAll(async () => {
    sender.close();
    await sinks.close();
  });
  beforeEach(async () => {
    await fetch(`${sinks.httpUrl}/mail`, { method: 'DELETE' });
  });

  it('delivers a message that the sink lists with its content', async () => {
    const result = await sender.send({
      to: 'ap@adatum.example',
      subject: 'Invoice 103021 from CRONUS',
      text: 'Pay here: http://127.0.0.1:4020/client/pay/abc',
      html: '<p>Pay <a href="http://127.0.0.1:4020/client/pay/abc">here</a></p>',
      idempotencyKey: 'link-send:CRONUS:103021:1',
    });
    expect(result.accepted).toEqual(['ap@adatum.example']);
    expect(result.rejected).toEqual([]);
    expect(result.messageId).toBe(messageIdFor('link-send:CRONUS:103021:1', FROM));

    const list = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail?to=AP@adatum.example`);
    expect(list).toHaveLength(1);
    const mail = list[0]!;
    expect(mail).toMatchObject({
      from: 'billing@cronus.example',
      fromName: 'Cronus Billing',
      to: ['ap@adatum.example'],
      envelopeTo: ['ap@adatum.example'],
      subject: 'Invoice 103021 from CRONUS',
      messageId: result.messageId,
      duplicate: false,
    });
    expect(mail.text?.trim()).toBe('Pay here: http://127.0.0.1:4020/client/pay/abc');
    expect(mail.html).toContain('<a href="http://127.0.0.1:4020/client/pay/abc">here</a>');
    expect(Date.parse(mail.date!)).not.toBeNaN();

    expect(await getJson<StoredMail>(`${sinks.httpUrl}/mail/${mail.id}`)).toEqual(mail);
    const html = await fetch(`${sinks.httpUrl}/mail/${mail.id}/html`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('client/pay/abc');
    expect((await fetch(`${sinks.httpUrl}/mail/no-such-id`)).status).toBe(404);
  });

  it('lists newest first and filters by recipient', async () => {
    await sender.send({ to: 'a@one.example', subject: 'first', text: '1', idempotencyKey: 'k-1' });
    await sender.send({ to: 'b@two.example', subject: 'second', text: '2', idempotencyKey: 'k-2' });
    await sender.send({ to: ['a@one.example', 'c@three.example'], subject: 'third', text: '3', idempotencyKey: 'k-3' });

    const all = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`);
    expect(all.map((m) => m.subject)).toEqual(['third', 'second', 'first']);
    const forA = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail?to=a@one.example`);
    expect(forA.map((m) => m.subject)).toEqual(['third', 'first']);
  });

  it('parses a burst once the sink is quiet; a read or a clear sees every mail accepted before it', async () => {
    await Promise.all([1, 2, 3, 4, 5].map((n) => sender.send({ to: 'burst@one.example', subject: `burst ${n}`, text: `${n}`, idempotencyKey: `burst-${n}` })));
    // Accepted, not parsed yet: the store fills once the sink has been quiet for 2 s.
    expect(sinks.store.listMail()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(sinks.store.listMail()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sinks.store.listMail().map((m) => m.subject).sort()).toEqual(['burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5']);

    await sender.send({ to: 'burst@one.example', subject: 'late', text: 'x', idempotencyKey: 'burst-late' });
    expect((await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`))[0]!.subject).toBe('late');
    await sender.send({ to: 'burst@one.example', subject: 'cleared', text: 'x', idempotencyKey: 'burst-cleared' });
    expect((await fetch(`${sinks.httpUrl}/mail`, { method: 'DELETE' })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`)).toEqual([]);
  });

  it('gives a retried send the same Message-ID, which the sink marks as a repeat', async () => {
    const one = await sender.send({ to: 'ap@adatum.example', subject: 'Reminder', text: 'x', idempotencyKey: 'remind:7' });
    const two = await sender.send({ to: 'ap@adatum.example', subject: 'Reminder', text: 'x', idempotencyKey: 'remind:7' });
    const other = await sender.send({ to: 'ap@adatum.example', subject: 'Reminder', text: 'x', idempotencyKey: 'remind:8' });
    expect(two.messageId).toBe(one.messageId);
    expect(other.messageId).not.toBe(one.messageId);

    const list = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`);
    expect(list.map((m) => [m.messageId, m.duplicate])).toEqual([
      [other.messageId, false],
      [one.messageId, true],
      [one.messageId, false],
    ]);
  });

  it('surfaces a 550 recipient rejection as a permanent error and stores nothing', async () => {
    const err = await rejectionOf(() =>
      sender.send({ to: 'gone@customer.example', subject: 's', text: 't', idempotencyKey: 'k-550' }),
    );
    expect(err).toBeInstanceOf(ExternalServiceError);
    const e = err as ExternalServiceError;
    expect(e.service).toBe('smtp');
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(550);
    expect(e.message).toContain('User unknown');
    expect(await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`)).toEqual([]);
  });

  it('surfaces a 451 deferral as a transient error', async () => {
    const err = await rejectionOf(() =>
      sender.send({ to: 'busy@customer.example', subject: 's', text: 't', idempotencyKey: 'k-451' }),
    );
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as ExternalServiceError).retryable).toBe(true);
    expect((err as ExternalServiceError).status).toBe(451);
  });

  it('delivers to accepted recipients and reports the rejected one', async () => {
    const result = await sender.send({
      to: ['ap@adatum.example', 'gone@customer.example'],
      subject: 'split',
      text: 't',
      idempotencyKey: 'k-split',
    });
    expect(result.accepted).toEqual(['ap@adatum.example']);
    expect(result.rejected).toEqual(['gone@customer.example']);
    const [mail] = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`);
    expect(mail!.envelopeTo).toEqual(['ap@adatum.example']);
  });

  it('follows rule changes made over the admin route', async () => {
    const put = await fetch(`${sinks.httpUrl}/admin/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rejectMail: ['ap@adatum.example'] }),
    });
    expect(put.status).toBe(200);
    try {
      const err = await rejectionOf(() => sender.send({ to: 'ap@adatum.example', subject: 's', text: 't', idempotencyKey: 'k-r' }));
      expect((err as ExternalServiceError).status).toBe(550);
      // The PUT replaced the whole rule set, so the earlier deferral is gone.
      await sender.send({ to: 'busy@customer.example', subject: 's', text: 't', idempotencyKey: 'k-r2' });
    } finally {
      Object.assign(sinks.rules, { rejectMail: ['gone@customer.example'], deferMail: ['busy@customer.example'] });
    }
    const bad = await fetch(`${sinks.httpUrl}/admin/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rejectMail: ['not-an-address'] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('rejectMail.0');
  });

  it('rejects an invalid recipient before talking to the server', async () => {
    const err = await rejectionOf(() => sender.send({ to: 'not-an-address', subject: 's', text: 't', idempotencyKey: 'k' }));
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as ExternalServiceError).retryable).toBe(false);
    expect((err as ExternalServiceError).code).toBe('invalid_message');
    expect((err as ExternalServiceError).message).toContain('to');
  });

  it('clears the mailbox on DELETE /mail', async () => {
    await sender.send({ to: 'ap@adatum.example', subject: 's', text: 't', idempotencyKey: 'k-del' });
    expect(await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`)).toHaveLength(1);
    expect((await fetch(`${sinks.httpUrl}/mail`, { method: 'DELETE' })).status).toBe(204);
    expect(await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`)).toEqual([]);
  });

  it('shows mail on the overview page with its text escaped', async () => {
    await sender.send({ to: 'ap@adatum.example', subject: 'Invoice <b>42</b> & more', text: 't', idempotencyKey: 'k-page' });
    const res = await fetch(`${sinks.httpUrl}/`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toContain('Invoice &#60;b&#62;42&#60;/b&#62; &#38; more');
    expect(page).not.toContain('<b>42</b>');
    expect(page).toMatch(/href="\/mail\/[0-9a-f-]{36}\/html"/);
  });
});

describe('email adapter failure classification', () => {
  it('treats a refused connection as transient', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const sender = createEmailSender({ host: '127.0.0.1', port, secure: false, from: FROM, retry: NO_RETRY, timeoutMs: 2000 });
    const err = await rejectionOf(() => sender.send({ to: 'ap@adatum.example', subject: 's', text: 't', idempotencyKey: 'k' }));
    sender.close();
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as ExternalServiceError).retryable).toBe(true);
    expect((err as ExternalServiceError).service).toBe('smtp');
  });

  it('retries a transient failure in process and then succeeds', async () => {
    const sinks = await startSinks({ rules: { deferNextMail: 1 } });
    const sender = createEmailSender({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, from: FROM, retry: FAST_RETRY });
    try {
      await sender.send({ to: 'later@customer.example', subject: 'late', text: 't', idempotencyKey: 'k-late' });
      expect(sinks.rules.deferNextMail).toBe(0);
      const list = await getJson<StoredMail[]>(`${sinks.httpUrl}/mail`);
      expect(list.map((m) => m.subject)).toEqual(['late']);
    } finally {
      sender.close();
      await sinks.close();
    }
  });
});

describe('messageIdFor', () => {
  it('is a valid msg-id, stable per key, distinct across keys, and uses the sender domain', () => {
    const a = messageIdFor('link-send:CRONUS:103021:1', FROM);
    expect(a).toBe(messageIdFor('link-send:CRONUS:103021:1', FROM));
    expect(a).toMatch(/^<[A-Za-z0-9_=-]+@cronus\.example>$/);
    expect(messageIdFor('a:b', FROM)).not.toBe(messageIdFor('a=3Ab', FROM));
    expect(messageIdFor('facture-é', 'billing@x.example')).toBe('<facture-=C3=A9@x.example>');
    expect(messageIdFor('k'.repeat(300), FROM)).toMatch(/^<sha256-[0-9a-f]{64}@cronus\.example>$/);
  });
});

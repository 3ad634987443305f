import { createSmsSender, type SmsSender } from '../../src/adapters/notify/sms';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import type { Sinks, StoredSms } from '../../src/sandbox/sinks';
import { FAST_RETRY, getJson, NO_RETRY, rejectionOf, SMS_SID, SMS_TOKEN, startSinks } from './helpers';

const FROM = '+15550100';
const TO = '+15551234567';

describe('SMS adapter against the SMS sink', () => {
  let sinks: Sinks;
  let sender: SmsSender;

  beforeAll(async () => {
    sinks = await startSinks({ rules: { rejectSms: ['+15559990000'] } });
    sender = createSmsSender({ baseUrl: sinks.httpUrl, accountSid: SMS_SID, authToken: SMS_TOKEN, from: FROM, retry: NO_RETRY });
  });
  afterAll(() => sinks.close());
  beforeEach(async () => {
    await fetch(`${sinks.httpUrl}/sms`, { method: 'DELETE' });
    sinks.faults.configure({ failNext: 0, throttleNext: 0 });
  });

  it('sends a text that the sink lists with its content', async () => {
    const body = 'CRONUS: invoice 103021, 1,250.00 USD due 2026-05-01. Pay: http://127.0.0.1:4020/client/pay/abc';
    const result = await sender.send({ to: TO, body, idempotencyKey: 'link-send:CRONUS:103021:1:sms' });
    expect(result).toMatchObject({ to: TO, from: FROM, status: 'queued', segments: 1, replayed: false });
    expect(result.sid).toMatch(/^SM[0-9a-f]{32}$/);

    // `+` must be encoded in a query string; the sink also accepts it arriving as a space.
    const list = await getJson<StoredSms[]>(`${sinks.httpUrl}/sms?to=${encodeURIComponent(TO)}`);
    expect(list).toEqual([
      expect.objectContaining({ sid: result.sid, to: TO, from: FROM, body, accountSid: SMS_SID, idempotencyKey: 'link-send:CRONUS:103021:1:sms' }),
    ]);
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms?to=+15551234567`)).toHaveLength(1);
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms?to=%2B15550000000`)).toEqual([]);

    // The provider's own fetch shows the message delivered.
    const auth = `Basic ${Buffer.from(`${SMS_SID}:${SMS_TOKEN}`).toString('base64')}`;
    const res = await fetch(`${sinks.httpUrl}/2010-04-01/Accounts/${SMS_SID}/Messages/${result.sid}.json`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sid: result.sid, status: 'delivered', body, num_segments: '1', direction: 'outbound-api' });
  });

  it('honours the idempotency key: a repeated key returns the first message and stores nothing new', async () => {
    const first = await sender.send({ to: TO, body: 'first', idempotencyKey: 'idem-1' });
    const again = await sender.send({ to: TO, body: 'first', idempotencyKey: 'idem-1' });
    expect(again.sid).toBe(first.sid);
    expect(again.replayed).toBe(true);
    expect(first.replayed).toBe(false);

    const other = await sender.send({ to: TO, body: 'second', idempotencyKey: 'idem-2' });
    expect(other.sid).not.toBe(first.sid);

    const list = await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`);
    expect(list.map((m) => [m.sid, m.body])).toEqual([
      [other.sid, 'second'],
      [first.sid, 'first'],
    ]);
  });

  it('surfaces a refused recipient as a permanent error with the provider code', async () => {
    const err = await rejectionOf(() => sender.send({ to: '+15559990000', body: 'hello', idempotencyKey: 'k-stop' }));
    expect(err).toBeInstanceOf(ExternalServiceError);
    const e = err as ExternalServiceError;
    expect(e.service).toBe('sms');
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(400);
    expect(e.code).toBe('21610');
    expect(e.message).toContain('unsubscribed');
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`)).toEqual([]);
  });

  it('surfaces bad credentials as a permanent 401', async () => {
    const wrong = createSmsSender({ baseUrl: sinks.httpUrl, accountSid: SMS_SID, authToken: 'nope', from: FROM, retry: NO_RETRY });
    const err = await rejectionOf(() => wrong.send({ to: TO, body: 'x', idempotencyKey: 'k-auth' }));
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as ExternalServiceError).status).toBe(401);
    expect((err as ExternalServiceError).code).toBe('20003');
    expect((err as ExternalServiceError).retryable).toBe(false);
  });

  it('classifies 500 and 429 as transient, with Retry-After', async () => {
    sinks.faults.configure({ failNext: 1 });
    const e500 = await rejectionOf(() => sender.send({ to: TO, body: 'x', idempotencyKey: 'k-500' }));
    expect((e500 as ExternalServiceError).retryable).toBe(true);
    expect((e500 as ExternalServiceError).status).toBe(500);

    sinks.faults.configure({ throttleNext: 1, retryAfterSeconds: 3 });
    const e429 = await rejectionOf(() => sender.send({ to: TO, body: 'x', idempotencyKey: 'k-429' }));
    expect((e429 as ExternalServiceError).retryable).toBe(true);
    expect((e429 as ExternalServiceError).status).toBe(429);
    expect((e429 as ExternalServiceError).code).toBe('20429');
    expect((e429 as ExternalServiceError).retryAfterMs).toBe(3000);
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`)).toEqual([]);
  });

  it('retries a transient failure in process and sends exactly once', async () => {
    sinks.faults.configure({ failNext: 2 });
    const retrying = createSmsSender({ baseUrl: sinks.httpUrl, accountSid: SMS_SID, authToken: SMS_TOKEN, from: FROM, retry: FAST_RETRY });
    const result = await retrying.send({ to: TO, body: 'eventually', idempotencyKey: 'k-retry' });
    expect(sinks.faults.settings.failNext).toBe(0);
    const list = await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`);
    expect(list.map((m) => m.sid)).toEqual([result.sid]);
  });

  it('rejects a number that is not E.164 before calling the provider', async () => {
    const err = await rejectionOf(() => sender.send({ to: '555-1234', body: 'x', idempotencyKey: 'k-bad' }));
    expect((err as ExternalServiceError).code).toBe('invalid_message');
    expect((err as ExternalServiceError).retryable).toBe(false);
    expect((err as ExternalServiceError).message).toContain('to:');
  });

  it('treats an unreachable provider as transient', async () => {
    const gone = createSmsSender({ baseUrl: 'http://127.0.0.1:1', accountSid: SMS_SID, authToken: SMS_TOKEN, from: FROM, retry: NO_RETRY });
    const err = await rejectionOf(() => gone.send({ to: TO, body: 'x', idempotencyKey: 'k-gone' }));
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect((err as ExternalServiceError).retryable).toBe(true);
  });

  it('validates the provider request like the provider does', async () => {
    const auth = `Basic ${Buffer.from(`${SMS_SID}:${SMS_TOKEN}`).toString('base64')}`;
    const post = (form: Record<string, string>) =>
      fetch(`${sinks.httpUrl}/2010-04-01/Accounts/${SMS_SID}/Messages.json`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    const noBody = await post({ To: TO, From: FROM });
    expect(noBody.status).toBe(400);
    expect(await noBody.json()).toMatchObject({ code: 21602, status: 400 });
    const badTo = await post({ To: 'abc', From: FROM, Body: 'x' });
    expect(await badTo.json()).toMatchObject({ code: 21211, message: "Invalid 'To' Phone Number: abc" });
    const tooLong = await post({ To: TO, From: FROM, Body: 'x'.repeat(1601) });
    expect(await tooLong.json()).toMatchObject({ code: 21617 });
    const otherAccount = await fetch(`${sinks.httpUrl}/2010-04-01/Accounts/ACother/Messages.json`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: TO, From: FROM, Body: 'x' }).toString(),
    });
    expect(otherAccount.status).toBe(401);
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`)).toEqual([]);
  });

  it('counts segments and shows texts with their links on the overview page', async () => {
    const long = await sender.send({ to: TO, body: `Pay: http://127.0.0.1:4020/p/x ${'a'.repeat(200)}`, idempotencyKey: 'k-long' });
    expect(long.segments).toBe(2);
    const page = await (await fetch(`${sinks.httpUrl}/`)).text();
    expect(page).toContain('<a href="http://127.0.0.1:4020/p/x">http://127.0.0.1:4020/p/x</a>');
    expect(page).toContain('+15551234567');
  });

  it('clears on DELETE /sms, idempotency keys included', async () => {
    const first = await sender.send({ to: TO, body: 'x', idempotencyKey: 'k-clear' });
    expect((await fetch(`${sinks.httpUrl}/sms`, { method: 'DELETE' })).status).toBe(204);
    expect(await getJson<StoredSms[]>(`${sinks.httpUrl}/sms`)).toEqual([]);
    const again = await sender.send({ to: TO, body: 'x', idempotencyKey: 'k-clear' });
    expect(again.sid).not.toBe(first.sid);
    expect(again.replayed).toBe(false);
  });
});

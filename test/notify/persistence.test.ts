import fs from 'node:fs';
import path from 'node:path';
import { createEmailSender } from '../../src/adapters/notify/email';
import { createSmsSender } from '../../src/adapters/notify/sms';
import type { StoredMail, StoredSms } from '../../src/sandbox/sinks';
import { getJson, NO_RETRY, SMS_SID, SMS_TOKEN, startSinks, tempDir } from './helpers';

describe('sink persistence', () => {
  const dataDir = tempDir();
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('keeps mail, texts and idempotency keys across a restart', async () => {
    const first = await startSinks({ dataDir });
    const mailer = createEmailSender({ host: '127.0.0.1', port: first.smtpPort, secure: false, from: 'billing@cronus.example', retry: NO_RETRY });
    const texter = createSmsSender({ baseUrl: first.httpUrl, accountSid: SMS_SID, authToken: SMS_TOKEN, from: '+15550100', retry: NO_RETRY });
    const mail = await mailer.send({ to: 'ap@adatum.example', subject: 'Invoice 1', text: 'pay', idempotencyKey: 'persist-mail' });
    const sms = await texter.send({ to: '+15551234567', body: 'pay', idempotencyKey: 'persist-sms' });
    mailer.close();
    await first.close();

    expect(fs.existsSync(path.join(dataDir, 'sink-mail.json'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'sink-sms.json'))).toBe(true);

    const second = await startSinks({ dataDir });
    try {
      const mails = await getJson<StoredMail[]>(`${second.httpUrl}/mail`);
      expect(mails.map((m) => [m.messageId, m.subject])).toEqual([[mail.messageId, 'Invoice 1']]);
      const texts = await getJson<StoredSms[]>(`${second.httpUrl}/sms`);
      expect(texts.map((m) => [m.sid, m.body])).toEqual([[sms.sid, 'pay']]);

      // The restarted provider still recognises the key and does not send a second text.
      const texter2 = createSmsSender({ baseUrl: second.httpUrl, accountSid: SMS_SID, authToken: SMS_TOKEN, from: '+15550100', retry: NO_RETRY });
      const replay = await texter2.send({ to: '+15551234567', body: 'pay', idempotencyKey: 'persist-sms' });
      expect(replay).toMatchObject({ sid: sms.sid, replayed: true });
      expect(await getJson<StoredSms[]>(`${second.httpUrl}/sms`)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

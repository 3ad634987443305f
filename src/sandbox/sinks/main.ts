import path from 'node:path';
import { z } from 'zod';
import { createSinks } from './index';

// Runs the mail and SMS sinks as their own process. The SMS credentials default to the same demo values the service
// uses (SMS_ACCOUNT_SID / SMS_AUTH_TOKEN), so the embedded stack agrees without configuration.

const port = z.coerce.number().int().min(0).max(65535);
const env = z
  .object({
    SINK_HOST: z.string().min(1).default('127.0.0.1'),
    SINK_SMTP_PORT: port.default(2525),
    SINK_HTTP_PORT: port.default(4030),
    SINK_DATA_DIR: z.string().min(1).default('.data'),
    SMS_ACCOUNT_SID: z.string().min(1).default('ACarsyncdemo'),
    SMS_AUTH_TOKEN: z.string().min(1).default('arsync-sms-token'),
  })
  .parse(process.env);

async function main(): Promise<void> {
  const sinks = await createSinks({
    host: env.SINK_HOST,
    smtpPort: env.SINK_SMTP_PORT,
    httpPort: env.SINK_HTTP_PORT,
    dataDir: path.resolve(env.SINK_DATA_DIR),
    smsAccountSid: env.SMS_ACCOUNT_SID,
    smsAuthToken: env.SMS_AUTH_TOKEN,
  });
  process.stdout.write(
    `mail & SMS sinks: SMTP ${env.SINK_HOST}:${sinks.smtpPort}, inbox ${sinks.httpUrl}/, SMS API ${sinks.httpUrl}/2010-04-01\n`,
  );
  const stop = () => {
    sinks.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sinks failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

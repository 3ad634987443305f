import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../../activities/deps';
import { createEmailSender } from '../adapters/notify/email';
import { createSmsSender } from '../adapters/notify/sms';
import { businessCentralFromConfig } from '../config/clients';
import type { Config } from '../config/load';
import type { Logger } from '../observability/logger';
import { createPortalDirectory } from './portals';

/** Builds the production clients the activities use, from configuration. Nothing here is sandbox-specific. */
export function createActivityDeps(config: Config, logger: Logger, temporal: Client): ActivityDeps {
  const { env } = config;
  return {
    settings: config.settings,
    env,
    bc: businessCentralFromConfig(config, logger),
    portals: createPortalDirectory(config),
    email: createEmailSender({
      host: env.SMTP_HOST,
      port: env.SMTP_PORT,
      secure: env.SMTP_SECURE,
      user: env.SMTP_USER,
      password: env.SMTP_PASSWORD,
      from: env.SMTP_FROM,
    }),
    sms: createSmsSender({ baseUrl: env.SMS_BASE_URL, accountSid: env.SMS_ACCOUNT_SID, authToken: env.SMS_AUTH_TOKEN, from: env.SMS_FROM }),
    temporal: { client: temporal, taskQueue: env.TEMPORAL_TASK_QUEUE },
    logger,
  };
}

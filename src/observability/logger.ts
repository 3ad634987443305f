import pino, { type Logger } from 'pino';

// Structured JSON logs. Anything that looks like a credential is redacted wherever it appears in a logged object, so a
// request config, an error with its request or a settings dump can be logged without leaking a secret.
export const REDACT_PATHS = [
  'apiKey', 'apiToken', 'token', 'accessToken', 'access_token', 'clientSecret', 'client_secret', 'password', 'secret',
  'authorization', 'Authorization', 'clientState', 'X-API-TOKEN', 'x-api-token',
  '*.apiKey', '*.apiToken', '*.token', '*.accessToken', '*.access_token', '*.clientSecret', '*.client_secret',
  '*.password', '*.secret', '*.authorization', '*.Authorization', '*.clientState', '*["X-API-TOKEN"]', '*["x-api-token"]',
  '*.headers.authorization', '*.headers.Authorization', '*.headers["x-api-token"]', '*.headers["X-API-TOKEN"]',
  '*.headers["x-arsync-webhook-secret"]', '*.headers["X-Arsync-Webhook-Secret"]',
  'env.BC_CLIENT_SECRET', 'env.INVOICE_NINJA_TOKEN', 'env.API_TOKEN', 'env.PORTAL_WEBHOOK_SECRET',
  'env.BC_WEBHOOK_CLIENT_STATE', 'env.TEMPORAL_API_KEY', 'env.SMTP_PASSWORD', 'env.SMS_AUTH_TOKEN',
];

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

export type { Logger };

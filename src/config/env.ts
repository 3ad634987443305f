import { z } from 'zod';

// Process environment: addresses, credentials and ports. Secrets are read here and only handed to adapters; the
// logger redacts them (src/observability/logger.ts).

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  ARSYNC_SETTINGS_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('arsync'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(8080),
  /** Public base URL of our API, used for webhook notification URLs. */
  API_PUBLIC_URL: z.url().default('http://127.0.0.1:8080'),
  /** Bearer token for finance/operator routes of our HTTP API. */
  API_TOKEN: z.string().min(16).default('arsync-operator-token-change-me'),
  /** Shared secret Invoice Ninja sends in the X-Arsync-Webhook-Secret header. */
  PORTAL_WEBHOOK_SECRET: z.string().min(16).default('arsync-portal-webhook-secret'),
  /** clientState we give Business Central subscriptions and check on every notification. */
  BC_WEBHOOK_CLIENT_STATE: z.string().min(16).default('arsync-bc-client-state-secret'),
  WORKER_METRICS_ADDRESS: z.string().default('127.0.0.1:9464'),
  /**
   * Workflows the worker keeps in memory between tasks. The SDK's default grows with the heap (about 2,300 here, near
   * 1 GiB resident); 300 keeps 10,000 waiting invoices under 512 MiB, the rest are replayed from history when touched.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(300),
  /**
   * V8 old-space limit (MiB) of the worker process `npm start` runs (0: Node's default, which lets garbage grow towards
   * gigabytes before collecting). 256 held 10,000 waiting invoices at 374-417 MiB resident (bench/README.md).
   */
  WORKER_HEAP_MB: z.coerce.number().int().min(0).max(65_536).default(256),

  BC_BASE_URL: z.url().default('http://127.0.0.1:4010'),
  BC_TOKEN_URL: z.url().default('http://127.0.0.1:4010/sandbox-tenant/oauth2/v2.0/token'),
  BC_TENANT_ID: z.string().min(1).default('sandbox-tenant'),
  BC_ENVIRONMENT: z.string().min(1).default('production'),
  BC_COMPANY_ID: z.guid().default('6f0e3a4c-2b1d-4c5e-9a7b-8c9d0e1f2a3b'),
  BC_CLIENT_ID: z.string().min(1).default('arsync-demo'),
  BC_CLIENT_SECRET: z.string().min(1).default('arsync-demo-secret'),
  BC_SCOPE: z.string().min(1).default('https://api.businesscentral.dynamics.com/.default'),

  INVOICE_NINJA_TOKEN: z.string().min(1).default('arsync-demo-token'),

  SMTP_HOST: z.string().default('127.0.0.1'),
  SMTP_PORT: port.default(2525),
  SMTP_SECURE: bool.default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.email().default('billing@cronus.example'),

  SMS_BASE_URL: z.url().default('http://127.0.0.1:4030'),
  SMS_ACCOUNT_SID: z.string().min(1).default('ACarsyncdemo'),
  SMS_AUTH_TOKEN: z.string().min(1).default('arsync-sms-token'),
  SMS_FROM: z.string().min(1).default('+15550100'),
});

export type Env = z.infer<typeof envSchema>;

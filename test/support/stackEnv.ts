import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral/server';
import type { Sinks } from '../../src/sandbox/sinks';

/** The credentials a harness makes its portal sandbox and SMS sink with, and gives arsync. */
export const HARNESS = {
  portalToken: 'arsync-demo-token',
  sms: { smsAccountSid: 'ACharness', smsAuthToken: 'sms-harness-token' },
} as const;

/** What a harness made (sandboxes, sinks, a port for the API) for arsync's configuration to point at. */
export interface StackEnvInput {
  /** Written to a settings file of its own (`ARSYNC_SETTINGS_FILE`), in a temporary folder named after `tmpPrefix`. */
  settings: object;
  tmpPrefix: string;
  taskQueue: string;
  bc: BusinessCentralSandbox;
  bcUrl: string;
  sinks: Sinks;
  apiPort: number;
  /** The base URL the systems are told to call back (webhooks, pay-page returns). */
  publicUrl: string;
}

/**
 * The environment that points arsync at one harness's sandboxes and sinks (the test stack's and the bench's), and the
 * folder holding its settings file, for the harness to remove when it closes.
 */
export function stackEnv(i: StackEnvInput): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), i.tmpPrefix));
  const settingsFile = path.join(dir, 'settings.json');
  fs.writeFileSync(settingsFile, JSON.stringify(i.settings));
  const env = {
    ARSYNC_SETTINGS_FILE: settingsFile,
    TEMPORAL_TASK_QUEUE: i.taskQueue,
    BC_BASE_URL: i.bcUrl,
    BC_TOKEN_URL: i.bc.tokenUrl,
    BC_COMPANY_ID: i.bc.companyId,
    INVOICE_NINJA_TOKEN: HARNESS.portalToken,
    SMTP_PORT: String(i.sinks.smtpPort),
    SMS_BASE_URL: i.sinks.httpUrl,
    SMS_ACCOUNT_SID: HARNESS.sms.smsAccountSid,
    SMS_AUTH_TOKEN: HARNESS.sms.smsAuthToken,
    API_PORT: String(i.apiPort),
    API_PUBLIC_URL: i.publicUrl,
  };
  return { env, dir };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSinks, type Sinks, type SinksOptions } from '../../src/sandbox/sinks';
import type { RetryOptions } from '../../src/adapters/http/retry';

export const SMS_SID = 'ACtest0001';
export const SMS_TOKEN = 'sink-test-token';

/** Quick in-process retries so transient-failure tests stay fast. */
export const FAST_RETRY: RetryOptions = { attempts: 3, initialDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 50 };
export const NO_RETRY: RetryOptions = { ...FAST_RETRY, attempts: 1 };

export function startSinks(extra: Partial<SinksOptions> = {}): Promise<Sinks> {
  return createSinks({ smtpPort: 0, httpPort: 0, smsAccountSid: SMS_SID, smsAuthToken: SMS_TOKEN, ...extra });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-sinks-'));
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

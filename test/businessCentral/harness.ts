import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBusinessCentralClient, type BusinessCentralConfig } from '../../src/adapters/businessCentral';
import { createBusinessCentralSandbox, type BusinessCentralSandbox, type BusinessCentralSandboxOptions } from '../../src/sandbox/businessCentral';

// Starts the Business Central sandbox in-process on a random port and builds production clients pointed at it.

export const CREDENTIALS = { clientId: 'test-app', clientSecret: 'test-secret', tenantId: 'test-tenant', environment: 'production' };

export async function startSandbox(opts: Partial<BusinessCentralSandboxOptions> = {}): Promise<BusinessCentralSandbox> {
  const sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS, notificationDelayMs: 0, ...opts });
  await sandbox.listen(0);
  return sandbox;
}

export function clientConfig(sandbox: BusinessCentralSandbox, overrides: Partial<BusinessCentralConfig> = {}): BusinessCentralConfig {
  return {
    baseUrl: sandbox.url,
    tenantId: CREDENTIALS.tenantId,
    environment: CREDENTIALS.environment,
    companyId: sandbox.companyId,
    tokenUrl: sandbox.tokenUrl,
    clientId: CREDENTIALS.clientId,
    clientSecret: CREDENTIALS.clientSecret,
    scope: 'https://api.businesscentral.dynamics.com/.default',
    timeoutMs: 5000,
    retry: { attempts: 5, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 3000 },
    ...overrides,
  };
}

export function clientFor(sandbox: BusinessCentralSandbox, overrides: Partial<BusinessCentralConfig> = {}) {
  return createBusinessCentralClient(clientConfig(sandbox, overrides));
}

export function tempDataFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bc-sandbox-')), 'sandbox-bc.json');
}

export const usd = (minor: number) => ({ minor, currency: 'USD' });

import fs from 'node:fs';
import { createBusinessCentralSandbox, DEFAULT_ADMIN_TOKEN } from './server';

// Starts the Business Central sandbox from environment variables:
//   BC_SANDBOX_PORT (4010), BC_SANDBOX_HOST (127.0.0.1), BC_SANDBOX_DATA_FILE (.data/sandbox-bc.json),
//   BC_CLIENT_ID (arsync-demo), BC_CLIENT_SECRET (arsync-demo-secret), BC_TENANT_ID (sandbox-tenant),
//   BC_ENVIRONMENT (production), BC_SANDBOX_ADMIN_TOKEN, BC_SANDBOX_NOTIFICATION_DELAY_MS (30000),
//   BC_SANDBOX_PAGE_SIZE (20000).
// On first start (no data file yet) it seeds the demo company and posts one demo invoice.

async function main() {
  const env = process.env;
  const dataFile = env.BC_SANDBOX_DATA_FILE ?? '.data/sandbox-bc.json';
  const firstStart = !fs.existsSync(dataFile);
  const sandbox = await createBusinessCentralSandbox({
    dataFile,
    clientId: env.BC_CLIENT_ID ?? 'arsync-demo',
    clientSecret: env.BC_CLIENT_SECRET ?? 'arsync-demo-secret',
    tenantId: env.BC_TENANT_ID ?? 'sandbox-tenant',
    environment: env.BC_ENVIRONMENT ?? 'production',
    adminToken: env.BC_SANDBOX_ADMIN_TOKEN ?? DEFAULT_ADMIN_TOKEN,
    notificationDelayMs: env.BC_SANDBOX_NOTIFICATION_DELAY_MS ? Number(env.BC_SANDBOX_NOTIFICATION_DELAY_MS) : undefined,
    pageSize: env.BC_SANDBOX_PAGE_SIZE ? Number(env.BC_SANDBOX_PAGE_SIZE) : undefined,
    logger: env.BC_SANDBOX_LOG === '1',
  });
  if (firstStart) {
    sandbox.admin.postInvoice({
      customerNumber: 'C10000',
      externalDocumentNumber: 'PO-4711',
      lines: [
        { description: 'Consulting services, October', quantity: 12, unitPrice: '145.00', taxPercent: '8.25' },
        { description: 'Travel expenses', quantity: 1, unitPrice: '236.40', taxPercent: '0' },
      ],
    });
  }
  const url = await sandbox.listen(Number(env.BC_SANDBOX_PORT ?? 4010), env.BC_SANDBOX_HOST ?? '127.0.0.1');
  const api = `${url}/v2.0/${env.BC_TENANT_ID ?? 'sandbox-tenant'}/${env.BC_ENVIRONMENT ?? 'production'}/api/v2.0`;
  process.stdout.write(`Business Central sandbox on ${url}\n  token: ${sandbox.tokenUrl}\n  api:   ${api}/companies(${sandbox.companyId})\n`);
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import { createBusinessCentralSandbox, type BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { businessCentralFromConfig } from '../../src/config/clients';
import { loadConfig } from '../../src/config/load';
import { CREDENTIALS, clientFor } from './harness';

// Customer posting groups are not in API v2.0: a custom API page exposes them, needed only when a portal connection is
// chosen by posting group. A tenant without the page must still sync customers on the default connection.

describe('Business Central client: customer posting groups', () => {
  let sandbox: BusinessCentralSandbox;
  /** Requests that reached a custom API page (anything under api/ but not the standard v2.0). */
  const customRequests: string[] = [];

  beforeAll(async () => {
    sandbox = await createBusinessCentralSandbox({ ...CREDENTIALS, notificationDelayMs: 0 });
    sandbox.app.addHook('onRequest', async (req) => {
      if (/\/api\/(?!v2\.0\/)/.test(req.url)) customRequests.push(req.url);
    });
    await sandbox.listen(0);
    sandbox.admin.createCustomer({ number: 'C91000', displayName: 'Fabrikam Export', email: 'ap@fabrikam.example', postingGroup: 'EXPORT' });
    sandbox.admin.addCustomerAttachment('C91000', { fileName: 'terms.pdf', content: Buffer.from('%PDF-1.4 terms') });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    customRequests.length = 0;
  });

  /** arsync's configuration pointed at the sandbox, with these settings. */
  const configWith = (settings: object) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arsync-posting-groups-'));
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
    return loadConfig({
      ...process.env,
      ARSYNC_SETTINGS_FILE: path.join(dir, 'settings.json'),
      BC_BASE_URL: sandbox.url,
      BC_TOKEN_URL: sandbox.tokenUrl,
      BC_TENANT_ID: CREDENTIALS.tenantId,
      BC_ENVIRONMENT: CREDENTIALS.environment,
      BC_COMPANY_ID: sandbox.companyId,
      BC_CLIENT_ID: CREDENTIALS.clientId,
      BC_CLIENT_SECRET: CREDENTIALS.clientSecret,
    });
  };

  it('reads no posting group, and asks no custom page, when no connection is chosen by one', async () => {
    const bc = businessCentralFromConfig(configWith({}));
    const customer = await bc.getCustomerByNumber('C91000', { details: true });
    expect(customer).toMatchObject({ number: 'C91000', email: 'ap@fabrikam.example', postingGroup: null });
    expect(customer!.attachments!.map((a) => a.fileName)).toEqual(['terms.pdf']);
    expect(customRequests).toEqual([]);
  });

  it('reads it through the custom page when a connection is chosen by posting group', async () => {
    const bc = businessCentralFromConfig(
      configWith({ connections: { byPostingGroup: { EXPORT: { url: 'http://127.0.0.1:9/portal-export', tokenEnv: 'INVOICE_NINJA_TOKEN' } } } }),
    );
    expect(await bc.getCustomerByNumber('C91000', { details: true })).toMatchObject({ postingGroup: 'EXPORT' });
    expect(customRequests).toHaveLength(1);
    expect(customRequests[0]).toContain('/api/arsync/finance/v1.0/companies(');
  });

  it('names the missing page, as a permanent failure, when the tenant does not have it', async () => {
    const bc = clientFor(sandbox, { postingGroupApi: 'contoso/finance/v1.0' });
    const err = await bc.getCustomerByNumber('C91000', { details: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ code: 'posting_group_api_missing', retryable: false, status: 404 });
    expect((err as Error).message).toContain('api/contoso/finance/v1.0/customerPostingGroups');
    // A plain read (no details) never needs it.
    expect(await bc.getCustomerByNumber('C91000', { details: false })).toMatchObject({ number: 'C91000' });
  });
});

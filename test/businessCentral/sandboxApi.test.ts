import type { BusinessCentralSandbox } from '../../src/sandbox/businessCentral';
import { DEFAULT_ADMIN_TOKEN } from '../../src/sandbox/businessCentral';
import { CREDENTIALS, startSandbox } from './harness';

// The sandbox's own HTTP surface where the client does not go: raw OData behaviour, errors and the admin routes.
describe('Business Central sandbox HTTP surface', () => {
  let sandbox: BusinessCentralSandbox;
  let token: string;
  let base: string;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${sandbox.url}/admin${path}`, {
      method,
      headers: { 'x-admin-token': DEFAULT_ADMIN_TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    sandbox = await startSandbox({ pageSize: 3 });
    const res = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CREDENTIALS.clientId, client_secret: CREDENTIALS.clientSecret, scope: 'https://api.businesscentral.dynamics.com/.default' }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
    base = `${sandbox.url}/v2.0/${CREDENTIALS.tenantId}/${CREDENTIALS.environment}/api/v2.0/companies(${sandbox.companyId})`;
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('answers 401 with a BC error body without a valid bearer token', async () => {
    const res = await fetch(`${base}/customers`, { headers: { authorization: 'Bearer forged' } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('Authentication_InvalidCredentials');
    expect(body.error.message).toMatch(/CorrelationId: {2}[0-9a-f-]{36}\.$/);
  });

  it('applies $filter, $select, $top, $orderby and Prefer maxpagesize', async () => {
    let res = await get(`/customers?$filter=number ge 'C20000' and number lt 'C40000'&$select=number,displayName&$orderby=number desc`);
    let body = (await res.json()) as { value: Record<string, unknown>[] };
    expect(body.value.map((c) => c.number)).toEqual(['C30000', 'C20000']);
    expect(Object.keys(body.value[0]).sort()).toEqual(['@odata.etag', 'displayName', 'number']);
    res = await get(`/customers?$top=1`);
    body = (await res.json()) as { value: Record<string, unknown>[] };
    expect(body.value).toHaveLength(1);
    res = await get(`/customers`, { prefer: 'odata.maxpagesize=1' });
    const paged = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string };
    expect(paged.value).toHaveLength(1);
    expect(paged['@odata.nextLink']).toContain('$skiptoken=1');
  });

  it('expands an invoice\'s customer as one object (with $select inside) and its lines as a list', async () => {
    const posted = sandbox.admin.postInvoice({ customerNumber: 'C30000', lines: [{ description: 'Service', quantity: 1, unitPrice: '5.00', taxPercent: '0' }] });
    const res = await get(`/salesInvoices?$filter=number eq '${posted.number}'&$expand=salesInvoiceLines,customer($select=number,email)`);
    const [row] = ((await res.json()) as { value: Array<{ customerId: string; customer: Record<string, unknown>; salesInvoiceLines: unknown[] }> }).value;
    expect(row.salesInvoiceLines).toHaveLength(1);
    expect(row.customer).toEqual({ '@odata.etag': expect.any(String), number: 'C30000', email: '' });
    const unknownNav = await get(`/salesInvoices?$expand=vendor`);
    expect(unknownNav.status).toBe(400);
  });

  it('equality filters joined by "or" (and mixed with "and") match exactly the rows they name', async () => {
    const numbers = async (filter: string) => {
      const body = (await (await get(`/customers?$filter=${filter}`)).json()) as { value: Array<{ number: string }> };
      return body.value.map((c) => c.number).sort();
    };
    expect(await numbers(`number eq 'C10000' or number eq 'C30000'`)).toEqual(['C10000', 'C30000']);
    expect(await numbers(`(number eq 'C10000' or number eq 'C30000') and number ne 'C30000'`)).toEqual(['C10000']);
    // An "or" that does not pin the number on both sides narrows nothing.
    expect(await numbers(`number eq 'C10000' or number ge 'C40000'`)).toEqual(['C10000', 'C40000']);
  });

  it('refuses what Business Central refuses', async () => {
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error });
    expect(await errorOf(await get(`/customers?$filter=nosuchfield eq 'x'`))).toMatchObject({ status: 400, message: expect.stringContaining("Could not find a property named 'nosuchfield'") });
    expect(await errorOf(await get(`/salesInvoices?$filter=remainingAmount gt 0`))).toMatchObject({ status: 400 });
    expect(await errorOf(await get(`/salesInvoiceLines`))).toMatchObject({ status: 400, message: expect.stringContaining('You must specify an Id or a Document Id to get the lines.') });
    expect(await errorOf(await get(`/customerPayments`))).toMatchObject({ status: 400, message: expect.stringContaining('You must specify a journal batch ID or a journal ID') });
    const journals = (await (await get(`/customerPaymentJournals`)).json()) as { value: { id: string; code: string }[] };
    const arsync = journals.value.find((j) => j.code === 'ARSYNC')!;
    // there is no post action on customerPaymentJournals: journals({id})/Microsoft.NAV.post is the way
    const noAction = await fetch(`${base}/customerPaymentJournals(${arsync.id})/Microsoft.NAV.post`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(noAction.status).toBe(404);
    // a PATCH without If-Match is refused
    const created = (await (
      await fetch(`${base}/customerPaymentJournals(${arsync.id})/customerPayments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerNumber: 'C10000', amount: -1, externalDocumentNumber: 'raw' }),
      })
    ).json()) as { id: string; documentNumber: string };
    expect(created.documentNumber).toMatch(/^ARS\d{5}$/);
    const patch = await fetch(`${base}/customerPayments(${created.id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: -2 }),
    });
    expect(patch.status).toBe(400);
    const unknownProp = await fetch(`${base}/customerPayments(${created.id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': '*' },
      body: JSON.stringify({ currencyCode: 'EUR' }),
    });
    expect(await errorOf(unknownProp)).toMatchObject({ status: 400, message: expect.stringContaining("The property 'currencyCode' does not exist") });
    await fetch(`${base}/customerPayments(${created.id})`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  });

  it('lets an ERP user work through the admin routes (the CLI uses them)', async () => {
    expect((await fetch(`${sandbox.url}/admin/customers`)).status).toBe(401);
    const invoice = (await (await admin('POST', '/invoices', { customerNumber: 'C20000', lines: [{ description: 'Widget', quantity: '2', unitPrice: '19.99', taxPercent: '8.25' }] })).json()) as {
      number: string;
      totalIncludingTax: string;
    };
    expect(invoice.totalIncludingTax).toBe('43.28');
    const payment = await admin('POST', `/invoices/${invoice.number}/payments`, { amount: '43.28' });
    expect(payment.status).toBe(201);
    expect(((await (await admin('GET', `/invoices/${invoice.number}`)).json()) as { status: string }).status).toBe('Paid');
    const unapplied = await admin('POST', '/unapply', { documentNumber: ((await payment.json()) as { documentNumber: string }).documentNumber });
    expect(unapplied.status).toBe(200);
    expect(((await (await admin('GET', `/invoices/${invoice.number}`)).json()) as { remaining: string }).remaining).toBe('43.28');
    const bad = await admin('POST', '/invoices', { customerNumber: 'C20000', lines: [] });
    expect(bad.status).toBe(400);
    const faults = await admin('POST', '/faults', { failNext: 1 });
    expect(((await faults.json()) as { failNext: number }).failNext).toBe(1);
    expect((await get('/customers')).status).toBe(500);
    expect((await get('/customers')).status).toBe(200);
  });
});

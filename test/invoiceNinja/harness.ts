import { createInvoiceNinjaClient, type InvoiceNinjaClient } from '../../src/adapters/invoiceNinja';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox, type InvoiceNinjaSandboxOptions } from '../../src/sandbox/invoiceNinja';

// Starts a sandbox on a free port with a production client pointed at it. Retries in tests back off in
// milliseconds so fault-injection cases stay quick.

export const TOKEN = 'test-token';
export const ADMIN = 'test-admin-token';

export interface Harness {
  sandbox: InvoiceNinjaSandbox;
  url: string;
  client: InvoiceNinjaClient;
  /** Plain HTTP with the headers a correct integration sends. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function startHarness(opts: Partial<InvoiceNinjaSandboxOptions> = {}): Promise<Harness> {
  const sandbox = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN], adminToken: ADMIN, ...opts });
  const url = await sandbox.listen(0);
  const client = createInvoiceNinjaClient({
    baseUrl: url,
    apiToken: TOKEN,
    timeoutMs: 2000,
    pageSize: 3,
    retry: { attempts: 5, initialDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 2000 },
  });
  const api: Harness['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'X-API-TOKEN': TOKEN, 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* HTML or empty */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { sandbox, url, client, api };
}

/** A USD client with one emailed contact, created through the production client. */
export async function newClient(h: Harness, number: string, currency = 'USD') {
  return h.client.findOrCreateClient(number, {
    name: `Customer ${number}`,
    currency,
    contacts: [{ firstName: 'Pat', lastName: number, email: `ap-${number.toLowerCase()}@example.com`, sendEmail: true }],
  });
}

/** A sent invoice with one untaxed line of `totalMinor`. */
export async function newInvoice(h: Harness, clientId: string, number: string, totalMinor: number, currency = 'USD') {
  return h.client.createInvoice(
    { clientId, currency, number, dueDate: '2030-01-31', lines: [{ productKey: 'SERVICE', notes: 'Consulting', quantity: 1, unitPriceMinor: totalMinor }] },
    { markSent: true },
  );
}

export const usd = (minor: number) => ({ minor, currency: 'USD' });

export async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

import { ExternalServiceError } from '../../src/adapters/http/errors';
import { createInvoiceNinjaClient } from '../../src/adapters/invoiceNinja';
import { createInvoiceNinjaSandbox, type InvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja';
import { type Harness, newClient, newInvoice, startHarness, TOKEN, usd } from './harness';

describe('Invoice Ninja invoices through the production client', () => {
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    h = await startHarness();
    clientId = (await newClient(h, 'C10000')).id;
  });
  afterAll(() => h.sandbox.close());

  it('creates a sent invoice with the ERP number, custom values, auto-bill and an invitation with view and pay links', async () => {
    const inv = await h.client.createInvoice(
      {
        clientId,
        currency: 'USD',
        number: 'SI-1001',
        date: '2030-01-01',
        dueDate: '2030-01-31',
        poNumber: 'PO-77',
        customValues: ['EXT-REF-9', '2030-01-31'],
        autoBillEnabled: true,
        lines: [
          { productKey: 'WIDGET', notes: 'Blue widget', quantity: 4, unitPriceMinor: 1250 },
          { productKey: 'HOURS', notes: 'Install', quantity: '1.5', unitPrice: '80.005', typeId: '2' },
        ],
      },
      { markSent: true },
    );
    // 4 × 12.50 = 50.00; 1.5 × 80.005 = 120.0075 → 120.01 (line totals round to the currency)
    expect(inv).toMatchObject({ number: 'SI-1001', status: 'sent', statusId: 2, amount: usd(17001), balance: usd(17001), paidToDate: usd(0) });
    expect(inv.customValues).toEqual(['EXT-REF-9', '2030-01-31', '', '']);
    expect(inv.autoBillEnabled).toBe(true);
    expect(inv.lines.map((l) => [l.productKey, l.quantity, l.unitCost, l.lineTotal.minor, l.typeId])).toEqual([
      ['WIDGET', '4', '12.5', 5000, '1'],
      ['HOURS', '1.5', '80.005', 12001, '2'],
    ]);
    expect(inv.invitations).toHaveLength(1);
    const [invitation] = inv.invitations;
    expect(invitation.link).toBe(`${h.url}/client/invoice/${invitation.key}`);
    expect(invitation.payLink).toBe(`${h.url}/client/pay/${invitation.key}`);
    expect(invitation.key).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(invitation.viewedDate).toBeNull();
    expect(invitation.sentDate).not.toBeNull();
    expect(h.sandbox.admin.outbox({ entityId: inv.id })).toHaveLength(0);

    const fetched = await h.client.findInvoiceByNumber('SI-1001');
    expect(fetched).toMatchObject({ id: inv.id, currency: 'USD', amount: usd(17001) });
  });

  it('keeps a draft without balance or email when no action is asked; send_email marks sent and records the email', async () => {
    const draft = await h.client.createInvoice({ clientId, currency: 'USD', number: 'SI-1002', lines: [{ quantity: 1, unitPriceMinor: 9900 }] });
    expect(draft).toMatchObject({ status: 'draft', amount: usd(9900), balance: usd(0) });

    const sent = await h.client.updateInvoice(draft.id, { currency: 'USD' }, { sendEmail: true });
    expect(sent).toMatchObject({ status: 'sent', balance: usd(9900) });
    const emails = h.sandbox.admin.outbox({ entityId: draft.id });
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ kind: 'invoice', to: 'ap-c10000@example.com' });
    expect(emails[0].body).toContain(sent.invitations[0].payLink);
  });

  it('recomputes amount and balance when lines are replaced after a payment, and refuses moving the invoice to another client', async () => {
    const inv = await newInvoice(h, clientId, 'SI-1003', 10000);
    await h.client.createPayment({
      clientId, currency: 'USD', amountMinor: 4000, date: '2030-01-05', transactionReference: 'ERP-P-1003',
      idempotencyKey: 'erp-1003', invoices: [{ invoiceId: inv.id, amountMinor: 4000 }],
    });
    const updated = await h.client.updateInvoice(inv.id, { currency: 'USD', lines: [{ quantity: 2, unitPriceMinor: 7500 }] });
    expect(updated).toMatchObject({ amount: usd(15000), paidToDate: usd(4000), balance: usd(11000), status: 'partial' });

    const other = await newClient(h, 'C99999');
    const moved = await h.api('PUT', `/api/v1/invoices/${inv.id}`, { client_id: other.id });
    expect(moved.status).toBe(422);
    expect(moved.body.errors.client_id).toBeDefined();
  });

  it('treats a create that meets its own number as done, and any other number clash as a typed number_taken error', async () => {
    const inv = await newInvoice(h, clientId, 'SI-1004', 5000);
    const again = await newInvoice(h, clientId, 'SI-1004', 5000);
    expect(again.id).toBe(inv.id);

    const other = await newClient(h, 'C20000');
    const err = await newInvoice(h, other.id, 'SI-1004', 5000).catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 422, code: 'number_taken', retryable: false });
    expect(err.message).toMatch(/number: The number has already been taken/);
  });

  it('frees a number an invoice gives up and counts only its own open invoices in a client balance', async () => {
    const a = await newClient(h, 'C30000');
    const b = await newClient(h, 'C30001');
    const inv = await newInvoice(h, a.id, 'RN-1', 1200);
    await newInvoice(h, b.id, 'RN-2', 700);

    expect((await h.api('PUT', `/api/v1/invoices/${inv.id}`, { number: 'RN-1A' })).status).toBe(200);
    // The old number is free again, the new one taken, by whichever client asks.
    const reused = await h.client.createNewInvoice({ clientId: b.id, currency: 'USD', number: 'RN-1', lines: [{ quantity: 1, unitPriceMinor: 300 }] }, { markSent: true });
    expect('created' in reused && reused.created).toMatchObject({ number: 'RN-1' });
    const clash = await h.api('POST', '/api/v1/invoices', { client_id: b.id, number: 'RN-1A' });
    expect(clash.status).toBe(422);
    expect(clash.body.errors.number[0]).toMatch(/already been taken/);
    expect(await h.client.findInvoiceByNumber('RN-1A')).toMatchObject({ id: inv.id, clientId: a.id });

    expect((await h.client.getClient(a.id)).balance).toEqual(usd(1200));
    expect((await h.client.getClient(b.id)).balance).toEqual(usd(1000));
    const listed = await h.api('GET', `/api/v1/invoices?client_id=${b.id}`);
    expect(listed.body.data.map((i: { number: string }) => i.number)).toEqual(['RN-2', 'RN-1']);
  });

  it('lists invoices changed since a time across pages, oldest first', async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await newInvoice(h, clientId, `SI-20${i}`, 1000 + i));
    const listed = await h.client.listInvoicesUpdatedSince(before);
    const numbers = listed.map((i) => i.number);
    for (const c of created) expect(numbers).toContain(c.number);
    const stamps = listed.map((i) => i.updatedAt);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);

    const page = await h.api('GET', `/api/v1/invoices?updated_at=${before}&per_page=2&page=1`);
    expect(page.body.meta.pagination).toMatchObject({ per_page: 2, current_page: 1, count: 2 });
    expect(page.body.meta.pagination.links.next).toContain('page=2');
    expect(await h.client.listInvoicesUpdatedSince(Math.floor(Date.now() / 1000) + 3600)).toEqual([]);
  });

  it('runs bulk actions: cancel only from sent/partial, archive, and waits out the one-second bulk guard', async () => {
    const a = await newInvoice(h, clientId, 'SI-3001', 2000);
    const b = await newInvoice(h, clientId, 'SI-3002', 3000);
    const draft = await h.client.createInvoice({ clientId, currency: 'USD', number: 'SI-3003', lines: [{ quantity: 1, unitPriceMinor: 100 }] });

    const cancelled = await h.client.bulkInvoices('cancel', [a.id, draft.id]);
    expect(cancelled.find((i) => i.id === a.id)).toMatchObject({ status: 'cancelled', balance: usd(0) });
    expect(cancelled.find((i) => i.id === draft.id)).toMatchObject({ status: 'draft' });

    await h.client.bulkInvoices('archive', [b.id]);
    const started = Date.now();
    const second = await h.client.bulkInvoices('archive', [draft.id]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(second[0].isArchived).toBe(true);
    expect((await h.client.getInvoice(b.id)).isArchived).toBe(true);

    const raw1 = await h.api('POST', '/api/v1/invoices/bulk', { action: 'mark_sent', ids: [draft.id] });
    const raw2 = await h.api('POST', '/api/v1/invoices/bulk', { action: 'mark_sent', ids: [draft.id] });
    expect(raw1.status).toBe(200);
    expect(raw2).toMatchObject({ status: 400, body: { message: 'Duplicate request' } });
  });

  it('turns the payments of a deleted invoice into unapplied money', async () => {
    const inv = await newInvoice(h, clientId, 'SI-4001', 2500);
    const pay = await h.client.createPayment({
      clientId, currency: 'USD', amountMinor: 2500, date: '2030-01-05', transactionReference: 'ERP-P-4001',
      idempotencyKey: 'erp-4001', invoices: [{ invoiceId: inv.id, amountMinor: 2500 }],
    });
    expect(pay.unapplied).toEqual(usd(0));
    await h.client.bulkInvoices('delete', [inv.id]);
    const after = await h.client.getPayment(pay.id);
    expect(after).toMatchObject({ applied: usd(0), unapplied: usd(2500), status: 'completed' });
    expect((await h.client.getInvoice(inv.id)).isDeleted).toBe(true);
  });
});

describe('Invoice Ninja: invoices changed since a time, while they change', () => {
  /**
   * Invoices created at the given seconds (offsets from a base), read three to a page; the first one read changes before
   * the second page is asked for and moves to the end of the list. Read by page number, the rest shifts back by one.
   */
  async function listWhileOneChanges(offsets: number[]): Promise<{ numbers: string[]; lists: number }> {
    const sandbox = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN] });
    let lists = 0;
    let onSecondList = async () => {};
    sandbox.app.addHook('preHandler', async (req) => {
      if (req.method === 'GET' && req.url.startsWith('/api/v1/invoices?') && req.url.includes('updated_at=') && ++lists === 2) await onSecondList();
    });
    const url = await sandbox.listen(0);
    const client = createInvoiceNinjaClient({ baseUrl: url, apiToken: TOKEN, timeoutMs: 2000, pageSize: 3 });
    const base = Math.floor(Date.now() / 1000) + 1000;
    let second = base;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => second * 1000);
    try {
      const h = { client } as Harness;
      const clientId = (await newClient(h, 'C10000')).id;
      const created: Array<{ id: string }> = [];
      for (const [i, offset] of offsets.entries()) {
        second = base + offset;
        created.push(await newInvoice(h, clientId, `PS-${i}`, 1000 + i));
      }
      onSecondList = async () => {
        second = base + 100;
        await client.updateInvoice(created[0]!.id, { currency: 'USD', publicNotes: 'changed while listing' });
      };
      const listed = await client.listInvoicesUpdatedSince(base);
      return { numbers: listed.map((i) => i.number), lists };
    } finally {
      clock.mockRestore();
      await sandbox.close();
    }
  }

  it('lists every one even when one changes while the pages are read (no page shift)', async () => {
    const { numbers, lists } = await listWhileOneChanges([0, 1, 2, 3, 4]);
    expect(numbers).toEqual(['PS-1', 'PS-2', 'PS-3', 'PS-4', 'PS-0']);
    expect(lists).toBeGreaterThan(2);
  });

  it('lists every one when more than a page share one second and one of them changes meanwhile', async () => {
    const { numbers } = await listWhileOneChanges([0, 0, 0, 0, 0, 1]);
    expect([...numbers].sort()).toEqual(['PS-0', 'PS-1', 'PS-2', 'PS-3', 'PS-4', 'PS-5']);
    expect(numbers[numbers.length - 1]).toBe('PS-0');
  });
});

describe('Invoice Ninja: create a new invoice without looking first', () => {
  let sandbox: InvoiceNinjaSandbox;
  let client: ReturnType<typeof createInvoiceNinjaClient>;
  let clientId: string;
  /** Invoice requests as the sandbox received them. */
  const seen: string[] = [];
  /** POSTs to /invoices whose answer is replaced by a 502 after the sandbox has done the work (an answer lost on the way). */
  let loseNextCreates = 0;

  beforeAll(async () => {
    sandbox = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN] });
    sandbox.app.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/api/v1/invoices')) seen.push(`${req.method} ${req.url.split('?')[0]}`);
    });
    sandbox.app.addHook('onSend', async (req, reply, payload) => {
      if (req.method !== 'POST' || !req.url.startsWith('/api/v1/invoices?') || loseNextCreates === 0 || reply.statusCode !== 200) return payload;
      loseNextCreates--;
      reply.code(502);
      return JSON.stringify({ message: 'Bad Gateway' });
    });
    const url = await sandbox.listen(0);
    client = createInvoiceNinjaClient({ baseUrl: url, apiToken: TOKEN, timeoutMs: 2000, retry: { attempts: 5, initialDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 2000 } });
    clientId = (await client.findOrCreateClient('C10000', { name: 'Customer C10000', currency: 'USD', contacts: [{ firstName: 'Pat', lastName: 'C10000', email: 'ap@example.com', sendEmail: true }] })).id;
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    seen.length = 0;
  });

  const input = (number: string, id = clientId) => ({ clientId: id, currency: 'USD', number, lines: [{ notes: 'Consulting', quantity: 1, unitPriceMinor: 4200 }] });
  /** The sandbox's invoices of this number, read over its API. */
  const numbered = async (number: string): Promise<Array<{ id: string; number: string }>> => {
    const res = await fetch(`${sandbox.url}/api/v1/invoices?number=${encodeURIComponent(number)}`, { headers: { 'X-API-TOKEN': TOKEN, 'X-Requested-With': 'XMLHttpRequest' } });
    return ((await res.json()) as { data: Array<{ id: string; number: string }> }).data.filter((i) => i.number === number);
  };

  it('creates a new number with one request and no lookup', async () => {
    const res = await client.createNewInvoice(input('N-1'), { markSent: true });
    expect('created' in res && res.created).toMatchObject({ number: 'N-1', amount: usd(4200), clientId });
    expect(seen).toEqual(['POST /api/v1/invoices']);
  });

  it('answers taken, without a lookup, for a number the portal had before (another client, or the same)', async () => {
    const other = await client.findOrCreateClient('C20000', { name: 'Customer C20000', currency: 'USD', contacts: [{ firstName: 'Sam', lastName: 'C20000', email: 'ap2@example.com' }] });
    await client.createInvoice(input('N-2', other.id), { markSent: true });
    await client.createInvoice(input('N-3'), { markSent: true });
    seen.length = 0;
    for (const number of ['N-2', 'N-3']) {
      const res = await client.createNewInvoice(input(number), { markSent: true });
      expect('taken' in res && res.taken).toMatchObject({ status: 422, code: 'number_taken', retryable: false });
    }
    expect(seen).toEqual(['POST /api/v1/invoices', 'POST /api/v1/invoices']);
    expect(await numbered('N-2')).toHaveLength(1);
  });

  it('answers taken when its own answer was lost and the retry meets the number: the caller looks it up', async () => {
    loseNextCreates = 1;
    const res = await client.createNewInvoice(input('N-4'), { markSent: true });
    expect(seen.filter((r) => r.startsWith('POST'))).toHaveLength(2);
    expect('taken' in res && res.taken.code).toBe('number_taken');
    const stored = await numbered('N-4');
    expect(stored).toHaveLength(1);
    expect((await client.findInvoiceByNumber('N-4'))!.id).toBe(stored[0].id);
  });
});

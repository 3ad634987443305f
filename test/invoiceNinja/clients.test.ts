import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExternalServiceError } from '../../src/adapters/http/errors';
import { createInvoiceNinjaClient } from '../../src/adapters/invoiceNinja';
import { createInvoiceNinjaSandbox } from '../../src/sandbox/invoiceNinja';
import { type Harness, newClient, startHarness, TOKEN } from './harness';

describe('Invoice Ninja clients through the production client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());

  it('finds or creates a client by ERP number and never creates it twice', async () => {
    const first = await newClient(h, 'C10000');
    const again = await newClient(h, 'C10000');
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ number: 'C10000', name: 'Customer C10000', currency: 'USD', currencyId: '1' });
    expect(first.contacts).toEqual([expect.objectContaining({ email: 'ap-c10000@example.com', isPrimary: true, sendEmail: true })]);
    expect(first.id).toMatch(/^[A-Za-z0-9]{10,}$/);

    const listed = await h.api('GET', '/api/v1/clients?number=C10000');
    expect(listed.body.meta.pagination.total).toBe(1);
    expect(await h.client.findClientByNumber('NO-SUCH')).toBeNull();
  });

  it('refuses a second client with the same number, even when the first is deleted', async () => {
    const c = await newClient(h, 'C20000');
    await h.client.bulkClients('delete', [c.id]);
    const clash = await h.api('POST', '/api/v1/clients', { name: 'Other', number: 'C20000' });
    expect(clash.status).toBe(422);
    expect(clash.body.errors.number[0]).toMatch(/already been taken/);

    // findOrCreate restores the deleted client instead of failing on the number
    const restored = await newClient(h, 'C20000');
    expect(restored).toMatchObject({ id: c.id, isDeleted: false, isArchived: false });
  });

  it('includes archived and deleted rows in lists unless status=active', async () => {
    const a = await newClient(h, 'C30001');
    await h.client.bulkClients('archive', [a.id]);
    const all = await h.api('GET', '/api/v1/clients?number=C30001');
    const active = await h.api('GET', '/api/v1/clients?number=C30001&status=active');
    expect(all.body.data).toHaveLength(1);
    expect(all.body.data[0].archived_at).toBeGreaterThan(0);
    expect(active.body.data).toHaveLength(0);
  });

  it('updates with settings.currency_id always sent, keeping contacts by id and matching new ones by email', async () => {
    const c = await h.client.findOrCreateClient('C40000', {
      name: 'Euro Customer',
      currency: 'EUR',
      settings: { payment_terms: 14 },
      contacts: [
        { firstName: 'Ann', email: 'ann@example.com', sendEmail: true },
        { firstName: 'Bob', email: 'bob@example.com' },
      ],
    });
    expect(c.currency).toBe('EUR');
    const ann = c.contacts.find((x) => x.email === 'ann@example.com')!;

    // A raw PUT without settings.currency_id resets the client to the company currency (the contract's gotcha) …
    const raw = await h.api('PUT', `/api/v1/clients/${c.id}`, { name: 'Euro Customer' });
    expect(raw.body.data.settings.currency_id).toBe('1');

    // … while the client always sends it, and replaces the contacts: Ann keeps her id, Bob goes, Cy is new.
    const updated = await h.client.updateClient(c.id, {
      currency: 'EUR',
      name: 'Euro Customer GmbH',
      contacts: [
        { firstName: 'Ann', lastName: 'Updated', email: 'ANN@example.com', sendEmail: true },
        { firstName: 'Cy', email: 'cy@example.com' },
      ],
    });
    expect(updated.currency).toBe('EUR');
    expect(updated.settings).toMatchObject({ currency_id: '3', payment_terms: 14 });
    expect(updated.name).toBe('Euro Customer GmbH');
    expect(updated.contacts.map((x) => x.email).sort()).toEqual(['ANN@example.com', 'cy@example.com']);
    expect(updated.contacts.find((x) => x.firstName === 'Ann')).toMatchObject({ id: ann.id, lastName: 'Updated' });

    // Omitting contacts leaves them alone.
    const again = await h.client.updateClient(c.id, { currency: 'EUR', phone: '+49 30 1234' });
    expect(again.contacts.map((x) => x.id).sort()).toEqual(updated.contacts.map((x) => x.id).sort());
  });

  it('uploads a client document as multipart with _method=PUT, public or private', async () => {
    const c = await newClient(h, 'C50000');
    const pdf = Buffer.from('%PDF-1.4\n% terms and conditions\n');
    const withDoc = await h.client.uploadClientDocument(c.id, { filename: 'terms.pdf', content: pdf, isPublic: false });
    expect(withDoc.documents).toEqual([expect.objectContaining({ name: 'terms.pdf', size: pdf.length, isPublic: false })]);
    const download = await fetch(`${h.url}/api/v1/documents/${withDoc.documents[0].id}/download`, { headers: { 'X-API-TOKEN': TOKEN } });
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);

    const rejected = await h.client.uploadClientDocument(c.id, { filename: 'run.exe', content: Buffer.from('MZ'), isPublic: true }).catch((e) => e);
    expect(rejected).toBeInstanceOf(ExternalServiceError);
    expect(rejected).toMatchObject({ status: 422, retryable: false, code: 'validation_failed' });
  });

  it('answers 403 "Invalid token" to a wrong token; the client reports it as permanent', async () => {
    const bad = createInvoiceNinjaClient({ baseUrl: h.url, apiToken: 'wrong', retry: { attempts: 3, initialDelayMs: 10 } });
    const err = await bad.findClientByNumber('C10000').catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 403, retryable: false, code: 'forbidden' });
    expect(err.message).toMatch(/Invalid token/);
    const raw = await fetch(`${h.url}/api/v1/clients`, { headers: { 'X-API-TOKEN': 'wrong' } });
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual({ message: 'Invalid token', errors: {} });
  });

  it('answers 400 (not 404) for an unknown hashed id, and redirects instead of JSON errors for non-JSON callers', async () => {
    const missing = await h.api('GET', '/api/v1/clients/NoSuchId99');
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/No query results for model/);
    const err = await h.client.getClient('NoSuchId99').catch((e) => e);
    expect(err).toMatchObject({ status: 400, code: 'not_found', retryable: false });

    const browserish = await fetch(`${h.url}/api/v1/clients`, {
      method: 'POST',
      headers: { 'X-API-TOKEN': TOKEN, 'Content-Type': 'application/json', Referer: 'http://example.test/form' },
      body: JSON.stringify({ number: 'C10000' }),
      redirect: 'manual',
    });
    expect(browserish.status).toBe(302);
    expect(browserish.headers.get('location')).toBe('http://example.test/form');
  });
});

describe('Invoice Ninja sandbox persistence', () => {
  it('keeps its records across a restart with the same data file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'in-sandbox-'));
    const dataFile = path.join(dir, 'state.json');
    const first = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN], dataFile });
    const url1 = await first.listen(0);
    const c1 = createInvoiceNinjaClient({ baseUrl: url1, apiToken: TOKEN });
    const created = await c1.findOrCreateClient('P10000', { name: 'Persistent', currency: 'GBP' });
    const inv = await c1.createInvoice({ clientId: created.id, currency: 'GBP', number: 'P-1', lines: [{ quantity: 2, unitPriceMinor: 1250 }] }, { markSent: true });
    await first.close();

    const second = await createInvoiceNinjaSandbox({ apiTokens: [TOKEN], dataFile });
    const url2 = await second.listen(0);
    const c2 = createInvoiceNinjaClient({ baseUrl: url2, apiToken: TOKEN });
    try {
      expect(await c2.findClientByNumber('P10000')).toMatchObject({ id: created.id, currency: 'GBP' });
      const again = await c2.getInvoice(inv.id);
      expect(again).toMatchObject({ number: 'P-1', amount: { minor: 2500, currency: 'GBP' }, status: 'sent' });
      // ids keep counting from where they were
      const next = await c2.findOrCreateClient('P20000', { name: 'Next', currency: 'GBP' });
      expect(next.id).not.toBe(created.id);
      // The numbers and balances the file held count after the restart too.
      const res = await c2.createNewInvoice({ clientId: next.id, currency: 'GBP', number: 'P-1', lines: [{ quantity: 1, unitPriceMinor: 100 }] });
      expect('taken' in res && res.taken.code).toBe('number_taken');
      expect((await c2.getClient(created.id)).balance).toEqual({ minor: 2500, currency: 'GBP' });
    } finally {
      await second.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { ExternalServiceError } from '../../src/adapters/http/errors';
import type { CreatePaymentInput } from '../../src/adapters/invoiceNinja';
import { type Harness, newClient, newInvoice, startHarness, usd } from './harness';

describe('Invoice Ninja payments through the production client', () => {
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    h = await startHarness();
    clientId = (await newClient(h, 'C10000')).id;
  });
  afterAll(() => h.sandbox.close());

  const pay = (over: Partial<CreatePaymentInput> & Pick<CreatePaymentInput, 'amountMinor' | 'idempotencyKey'>) =>
    h.client.createPayment({ clientId, currency: 'USD', date: '2030-02-01', transactionReference: over.idempotencyKey, invoices: [], ...over });

  it('applies a partial payment (invoice partial, status 3) and then the rest (paid, status 4), silently', async () => {
    const inv = await newInvoice(h, clientId, 'P-1', 10000);
    const first = await pay({ amountMinor: 3000, idempotencyKey: 'erp-p1-a', invoices: [{ invoiceId: inv.id, amountMinor: 3000 }] });
    expect(first).toMatchObject({ status: 'completed', statusId: 4, amount: usd(3000), applied: usd(3000), isManual: true });
    expect(first.invoices).toEqual([{ invoiceId: inv.id, amount: usd(3000), refunded: usd(0) }]);
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'partial', statusId: 3, balance: usd(7000), paidToDate: usd(3000) });

    await pay({ amountMinor: 7000, idempotencyKey: 'erp-p1-b', invoices: [{ invoiceId: inv.id, amountMinor: 7000 }] });
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'paid', statusId: 4, balance: usd(0) });
    // email_receipt=false is sent on every payment, so nothing reached the outbox
    expect(h.sandbox.admin.outbox({ to: 'ap-c10000@example.com' }).filter((e) => e.kind === 'payment_receipt')).toHaveLength(0);
  });

  it('reads a payment with its client and invoices in one request, each as its own read gives it', async () => {
    const a = await newInvoice(h, clientId, 'P-INC-1', 4000);
    const b = await newInvoice(h, clientId, 'P-INC-2', 6000);
    const p = await pay({ amountMinor: 5000, idempotencyKey: 'erp-inc', invoices: [{ invoiceId: a.id, amountMinor: 4000 }, { invoiceId: b.id, amountMinor: 1000 }] });
    const read = await h.client.getPayment(p.id);
    expect(read.clientRecord).toEqual(await h.client.getClient(clientId));
    expect(read.invoiceRecords?.map((i) => i.id).sort()).toEqual([a.id, b.id].sort());
    for (const inv of read.invoiceRecords ?? []) expect(inv).toEqual(await h.client.getInvoice(inv.id));
    expect(read.invoiceRecords?.find((i) => i.id === b.id)).toMatchObject({ status: 'partial', balance: usd(5000) });
  });

  it('reads an invoice with its payments (include=payments): only those on it, each as its own read gives it; a deleted one is no longer linked', async () => {
    const a = await newInvoice(h, clientId, 'P-WITH-1', 4000);
    const b = await newInvoice(h, clientId, 'P-WITH-2', 6000);
    const both = await pay({ amountMinor: 5000, idempotencyKey: 'erp-with-ab', invoices: [{ invoiceId: a.id, amountMinor: 1000 }, { invoiceId: b.id, amountMinor: 4000 }] });
    await pay({ amountMinor: 1500, idempotencyKey: 'erp-with-b', invoices: [{ invoiceId: b.id, amountMinor: 1500 }] });
    const onA = await pay({ amountMinor: 500, idempotencyKey: 'erp-with-a', invoices: [{ invoiceId: a.id, amountMinor: 500 }] });
    await h.client.deletePayment(onA.id);

    const read = await h.client.getInvoiceWithPayments(a.id);
    expect(read.invoice).toEqual(await h.client.getInvoice(a.id));
    expect(read.invoice.balance).toEqual(usd(3000));
    // The payment on b only is not listed; nor is the deleted one: DeletePayment deletes its paymentables, so it has no
    // invoices left (its balance went back to the invoice).
    expect(read.payments.map((p) => p.id).sort()).toEqual([both.id]);
    for (const p of read.payments) expect(p).toEqual(await h.client.getPayment(p.id).then(({ invoiceRecords, clientRecord, ...rest }) => rest));
    const deleted = await h.client.getPayment(onA.id);
    expect(deleted).toMatchObject({ isDeleted: true, status: 'cancelled', invoices: [], invoiceRecords: [] });
  });

  it("lists a client's payments created since a time (created_at, >=)", async () => {
    const c = await newClient(h, 'C-SINCE');
    const inv = await newInvoice(h, c.id, 'P-SINCE', 3000);
    const p = await h.client.createPayment({ clientId: c.id, currency: 'USD', date: '2030-02-01', amountMinor: 1000, idempotencyKey: 'erp-since', transactionReference: 'erp-since', invoices: [{ invoiceId: inv.id, amountMinor: 1000 }] });
    expect((await h.client.listClientPayments(c.id, { createdSince: p.createdAt })).map((x) => x.id)).toEqual([p.id]);
    expect(await h.client.listClientPayments(c.id, { createdSince: p.createdAt + 1 })).toEqual([]);
    expect((await h.client.listClientPayments(c.id)).map((x) => x.id)).toEqual([p.id]);
  });

  it('emails a receipt when email_receipt is true or absent (client_manual_payment_notification), not when false', async () => {
    const c = await newClient(h, 'C-MAIL');
    const receipts = () => h.sandbox.admin.outbox({ to: 'ap-c-mail@example.com' }).filter((e) => e.kind === 'payment_receipt');
    const post = (amount: number, extra: Record<string, unknown>) =>
      h.api('POST', '/api/v1/payments', { client_id: c.id, amount, transaction_reference: `mail-${amount}`, ...extra });
    expect((await post(1, { email_receipt: false })).status).toBe(200);
    expect(receipts()).toHaveLength(0);
    expect((await post(2, { email_receipt: true })).status).toBe(200);
    expect((await post(3, {})).status).toBe(200);
    expect(receipts().map((e) => e.subject)).toEqual([expect.stringMatching(/^Payment \d+ received$/), expect.stringMatching(/^Payment \d+ received$/)]);
  });

  it('keeps the excess of an overpayment unapplied on the account', async () => {
    const inv = await newInvoice(h, clientId, 'P-2', 5000);
    const p = await pay({ amountMinor: 8000, idempotencyKey: 'erp-p2', invoices: [{ invoiceId: inv.id, amountMinor: 5000 }] });
    expect(p).toMatchObject({ applied: usd(5000), unapplied: usd(3000) });
    const client = await h.client.getClient(clientId);
    expect(client.paymentBalance.minor).toBeGreaterThanOrEqual(3000);
    const partly = await h.api('GET', `/api/v1/payments?client_status=partially_unapplied&client_id=${clientId}`);
    expect(partly.body.data.map((x: { id: string }) => x.id)).toContain(p.id);
  });

  it('refuses a replayed idempotency key with 422; the client recognises its own earlier payment and returns it', async () => {
    const inv = await newInvoice(h, clientId, 'P-3', 4000);
    const input = { amountMinor: 4000, idempotencyKey: 'erp-ledger-entry-777', transactionReference: 'ERP-CR-777', invoices: [{ invoiceId: inv.id, amountMinor: 4000 }] };
    const first = await pay(input);

    await new Promise((r) => setTimeout(r, 1100)); // past the duplicate guard, so the key check is what answers
    const raw = await h.api('POST', '/api/v1/payments', {
      client_id: clientId, amount: 40, idempotency_key: 'erp-ledger-entry-777', transaction_reference: 'ERP-CR-777', invoices: [],
    });
    expect(raw.status).toBe(422);
    expect(raw.body.errors.idempotency_key).toEqual(['The idempotency key has already been taken.']);

    await new Promise((r) => setTimeout(r, 1100));
    const replay = await pay(input);
    expect(replay.id).toBe(first.id);
    const all = await h.api('GET', `/api/v1/payments?client_id=${clientId}&filter=ERP-CR-777`);
    expect(all.body.data).toHaveLength(1);
    expect((await h.client.getInvoice(inv.id)).balance).toEqual(usd(0));
  });

  it('waits out the one-second duplicate guard for two payments of the same amount to the same client', async () => {
    const a = await newInvoice(h, clientId, 'P-4a', 1500);
    const b = await newInvoice(h, clientId, 'P-4b', 1500);
    const raw1 = await h.api('POST', '/api/v1/payments', { client_id: clientId, amount: 15, invoices: [{ invoice_id: a.id, amount: 15 }], idempotency_key: 'raw-4a', email_receipt: false });
    const raw2 = await h.api('POST', '/api/v1/payments', { client_id: clientId, amount: 15, invoices: [{ invoice_id: b.id, amount: 15 }], idempotency_key: 'raw-4b', email_receipt: false });
    expect(raw1.status).toBe(200);
    expect(raw2).toMatchObject({ status: 400, body: { message: 'Duplicate request' } });

    const started = Date.now();
    const viaClient = await pay({ amountMinor: 1500, idempotencyKey: 'erp-4b', invoices: [{ invoiceId: b.id, amountMinor: 1500 }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(viaClient.invoices[0].invoiceId).toBe(b.id);
    expect((await h.client.getInvoice(b.id)).status).toBe('paid');
  });

  it('rejects paying more than the balance with a typed 422 naming the field', async () => {
    const inv = await newInvoice(h, clientId, 'P-5', 1000);
    const err = await pay({ amountMinor: 2000, idempotencyKey: 'erp-p5', invoices: [{ invoiceId: inv.id, amountMinor: 2000 }] }).catch((e) => e);
    expect(err).toBeInstanceOf(ExternalServiceError);
    expect(err).toMatchObject({ status: 422, code: 'validation_failed', retryable: false });
    expect(err.message).toMatch(/invoices\.0\.amount/);
  });

  it('refunds part of an invoice (status 5, invoice reopened, auto-bill off) and then the rest (status 6)', async () => {
    const inv = await h.client.createInvoice(
      { clientId, currency: 'USD', number: 'P-6', autoBillEnabled: true, lines: [{ quantity: 1, unitPriceMinor: 6000 }] },
      { markSent: true },
    );
    const p = await pay({ amountMinor: 6000, idempotencyKey: 'erp-p6', invoices: [{ invoiceId: inv.id, amountMinor: 6000 }] });
    const partly = await h.client.refundPayment({ paymentId: p.id, currency: 'USD', date: '2030-02-02', invoices: [{ invoiceId: inv.id, amountMinor: 2500 }] });
    expect(partly).toMatchObject({ status: 'partially_refunded', statusId: 5, refunded: usd(2500) });
    expect(partly.invoices[0].refunded).toEqual(usd(2500));
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'partial', balance: usd(2500), autoBillEnabled: false });

    const rest = await h.client.refundPayment({ paymentId: p.id, currency: 'USD', date: '2030-02-03', invoices: [{ invoiceId: inv.id, amountMinor: 3500 }] });
    expect(rest).toMatchObject({ status: 'refunded', statusId: 6, refunded: usd(6000) });
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'sent', balance: usd(6000) });

    const tooMuch = await h.client.refundPayment({ paymentId: p.id, currency: 'USD', date: '2030-02-03', amountMinor: 1 }).catch((e) => e);
    expect(tooMuch).toMatchObject({ status: 422, retryable: false });
  });

  it('accepts a standalone negative payment, which lowers the client paid_to_date', async () => {
    const c = await newClient(h, 'C-NEG');
    const inv = await newInvoice(h, c.id, 'P-7', 5000);
    await h.client.createPayment({ clientId: c.id, currency: 'USD', amountMinor: 5000, date: '2030-02-01', idempotencyKey: 'erp-p7', transactionReference: 'erp-p7', invoices: [{ invoiceId: inv.id, amountMinor: 5000 }] });
    const neg = await h.client.createPayment({ clientId: c.id, currency: 'USD', amountMinor: -5000, date: '2030-02-01', idempotencyKey: 'erp-p7-neg', transactionReference: 'erp-p7-neg', invoices: [] });
    expect(neg).toMatchObject({ amount: usd(-5000), applied: usd(0), status: 'completed', invoices: [] });
    expect((await h.client.getClient(c.id)).paidToDate).toEqual(usd(0));

    const applied = await h.api('POST', '/api/v1/payments', { client_id: c.id, amount: -10, invoices: [{ invoice_id: inv.id, amount: -10 }] });
    expect(applied.status).toBe(422);
  });

  it('voids a payment on delete (status 2, deleted) and restores the invoice balance', async () => {
    const inv = await newInvoice(h, clientId, 'P-8', 9000);
    const p = await pay({ amountMinor: 4000, idempotencyKey: 'erp-p8', invoices: [{ invoiceId: inv.id, amountMinor: 4000 }] });
    expect((await h.client.getInvoice(inv.id)).status).toBe('partial');
    const voided = await h.client.deletePayment(p.id);
    expect(voided).toMatchObject({ status: 'cancelled', statusId: 2, isDeleted: true });
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'sent', balance: usd(9000), paidToDate: usd(0) });
  });

  it('lists payments changed since a time, with their invoices, across pages and including deleted ones', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const inv = await newInvoice(h, clientId, 'P-9', 1200);
    const p = await pay({ amountMinor: 1200, idempotencyKey: 'erp-p9', invoices: [{ invoiceId: inv.id, amountMinor: 1200 }] });
    const listed = await h.client.listPaymentsUpdatedSince(since);
    const found = listed.find((x) => x.id === p.id)!;
    expect(found.invoiceRecords?.map((i) => i.number)).toEqual(['P-9']);
    expect(listed.some((x) => x.isDeleted)).toBe(true); // P-8's voided payment from the test before
    const stamps = listed.map((x) => x.updatedAt);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);

    const pending = await h.api('GET', '/api/v1/payments?client_status=pending');
    expect(pending.body.data).toEqual([]);
  });
});

import Fastify, { type FastifyInstance } from 'fastify';
import { IN_EVENT, LINE_TYPE } from '../../src/adapters/invoiceNinja';
import { ADMIN, type Harness, newClient, newInvoice, startHarness, until, usd } from './harness';

// The client portal over plain HTTP, the way a browser without JavaScript uses it: view an invoice (which marks it
// viewed unless ?silent=true), download its PDF, pick invoices and amounts, see the fee, pay, get a receipt.

const FEES = { card: { percent: 3, fixedMinor: 30 }, bank: { percent: 0, fixedMinor: 150 } };

async function get(url: string) {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

async function postForm(url: string, fields: Array<[string, string]>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

describe('Invoice Ninja sandbox client portal', () => {
  let h: Harness;
  let receiver: FastifyInstance;
  const hooks: Array<{ path: string; body: any }> = [];

  beforeAll(async () => {
    h = await startHarness({ fees: FEES });
    receiver = Fastify();
    receiver.post('/*', async (req) => {
      hooks.push({ path: req.url, body: req.body });
      return { ok: true };
    });
    const target = await receiver.listen({ port: 0, host: '127.0.0.1' });
    await h.client.createWebhook(IN_EVENT.CREATE_PAYMENT, `${target}/in/4`, {});
    await h.client.createWebhook(IN_EVENT.UPDATE_PAYMENT, `${target}/in/31`, {});
  });
  afterAll(async () => {
    await h.sandbox.close();
    await receiver.close();
  });

  it('shows the invoice and marks it viewed only on a non-silent visit', async () => {
    const c = await newClient(h, 'V10000');
    const inv = await h.client.createInvoice(
      {
        clientId: c.id, currency: 'USD', number: 'V-1', dueDate: '2030-05-31',
        lines: [{ productKey: 'LICENSE', notes: 'Annual licence', quantity: 2, unitPriceMinor: 12345, taxes: [{ name: 'Tax', rate: 10 }] }],
      },
      { markSent: true },
    );
    const link = inv.invitations[0].link;

    const silent = await get(`${link}?silent=true`);
    expect(silent.status).toBe(200);
    expect(silent.text).toContain('Invoice V-1');
    expect(silent.text).toContain('2030-05-31');
    expect(silent.text).toContain('$271.59'); // 246.90 + 24.69 tax
    expect(silent.text).toContain('Annual licence');
    expect(silent.text).toContain('window.print()');
    expect(silent.text).toContain(`/client/pay/${inv.invitations[0].key}`);
    const afterSilent = await h.client.getInvoice(inv.id);
    expect(afterSilent.invitations[0].viewedDate).toBeNull();
    expect(afterSilent.updatedAt).toBe(inv.updatedAt);

    await new Promise((r) => setTimeout(r, 1000)); // updated_at has one-second resolution
    expect((await get(link)).status).toBe(200);
    const viewed = await h.client.getInvoice(inv.id);
    expect(viewed.invitations[0].viewedDate).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(viewed.updatedAt).toBeGreaterThan(inv.updatedAt);
    expect((await h.client.listInvoicesUpdatedSince(viewed.updatedAt)).map((i) => i.id)).toContain(inv.id);

    await get(link);
    expect((await h.client.getInvoice(inv.id)).invitations[0].viewedDate).toBe(viewed.invitations[0].viewedDate);
    expect((await get(`${h.url}/client/invoice/not-a-key`)).status).toBe(404);
    // The sandbox's front door (the stack's banner links it) lists it with its links, and opening that list is no view.
    const front = await get(`${h.url}/client`);
    expect(front.status).toBe(200);
    expect(front.text).toContain(inv.number);
    expect(front.text).toContain(`/client/pay/${inv.invitations[0].key}`);
  });

  it('downloads a valid PDF of the invoice', async () => {
    const c = await newClient(h, 'V20000');
    const inv = await newInvoice(h, c.id, 'V-2', 5000);
    const res = await fetch(`${inv.invitations[0].link}/download`);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer()).toString('latin1');
    expect(pdf.startsWith('%PDF-1.4')).toBe(true);
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pdf).toContain('(INVOICE V-2)');
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(pdf)![1]);
    expect(pdf.slice(startxref, startxref + 4)).toBe('xref');
    // every object offset in the cross-reference table points at "n 0 obj"
    const offsets = [...pdf.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    offsets.forEach((o, i) => expect(pdf.slice(o, o + 12)).toMatch(new RegExp(`^${i + 1} 0 obj`)));
  });

  it('pays part of an invoice by card: the fee is shown first, added as a paid gateway-fee line, and a receipt follows', async () => {
    const c = await newClient(h, 'V30000');
    const inv = await newInvoice(h, c.id, 'V-3', 10000);
    const key = inv.invitations[0].key;
    const payUrl = `${h.url}/client/pay/${key}`;

    const form = await get(payUrl);
    expect(form.status).toBe(200);
    expect(form.text).toContain(`name="invoice" value="${inv.id}"`);
    expect(form.text).toMatch(/fee 3% \+ \$0\.30/);

    const choice: Array<[string, string]> = [['invoice', inv.id], [`amount_${inv.id}`, '40.00'], ['method', 'card']];
    const review = await postForm(`${payUrl}/review`, choice);
    expect(review.status).toBe(200);
    expect(review.text).toContain('$1.50'); // 3% of 40.00 + 0.30
    expect(review.text).toContain('Pay $41.50');
    expect(hooks.filter((x) => x.path === '/in/4')).toHaveLength(0);

    const card: Array<[string, string]> = [['card_number', '4242 4242 4242 4242'], ['card_expiry', '12/30'], ['card_cvc', '123'], ['card_name', 'Pat']];
    const noAgreement = await postForm(`${payUrl}/confirm`, [...choice, ['fee_shown', '150'], ...card]);
    expect(noAgreement.status).toBe(422);
    expect(noAgreement.text).toContain('agree to the convenience fee');

    const paid = await postForm(`${payUrl}/confirm`, [...choice, ['fee_shown', '150'], ['agree_fee', '1'], ...card]);
    expect(paid.status).toBe(303);
    const receipt = await get(`${h.url}${paid.location}`);
    expect(receipt.text).toContain('Payment successful');
    expect(receipt.text).toContain('$41.50');

    const after = await h.client.getInvoice(inv.id);
    expect(after).toMatchObject({ status: 'partial', statusId: 3, amount: usd(10150), balance: usd(6000), paidToDate: usd(4150) });
    const fee = after.lines.find((l) => l.typeId === LINE_TYPE.PAID_GATEWAY_FEE)!;
    expect(fee.lineTotal).toEqual(usd(150));

    const [hook] = await until(() => hooks.filter((x) => x.path === '/in/4'), (x) => x.length === 1);
    const payment = await h.client.getPayment(hook.body.id);
    expect(payment).toMatchObject({ status: 'completed', amount: usd(4150), gatewayTypeId: '1', typeId: '5', isManual: false });
    expect(payment.transactionReference).toMatch(/^ch_/);
    expect(payment.invoices).toEqual([{ invoiceId: inv.id, amount: usd(4150), refunded: usd(0) }]);
    expect(h.sandbox.admin.outbox({ entityId: payment.id })).toEqual([expect.objectContaining({ kind: 'payment_receipt', to: 'ap-v30000@example.com' })]);
  });

  it('pays two invoices at once by bank: pending first, then settled through the admin route', async () => {
    const c = await newClient(h, 'V40000');
    const a = await newInvoice(h, c.id, 'V-4a', 2000);
    const b = await newInvoice(h, c.id, 'V-4b', 3000);
    const payUrl = `${h.url}/client/pay/${a.invitations[0].key}`;
    expect((await get(payUrl)).text).toContain(`value="${b.id}"`);

    const paid = await postForm(`${payUrl}/confirm`, [
      ['invoice', a.id], [`amount_${a.id}`, '20.00'], ['invoice', b.id], [`amount_${b.id}`, '30.00'], ['method', 'bank'],
      ['fee_shown', '150'], ['agree_fee', '1'], ['bank_name', 'Pat'], ['bank_routing', '110000000'], ['bank_account', '000123456789'],
    ]);
    expect(paid.status).toBe(303);
    expect((await get(`${h.url}${paid.location}`)).text).toContain('pending');
    const paymentId = paid.location!.split('/').pop()!;
    const pending = await h.client.getPayment(paymentId);
    expect(pending).toMatchObject({ status: 'pending', statusId: 1, amount: usd(5150), gatewayTypeId: '2', typeId: '4' });
    expect(pending.invoices.map((x) => [x.invoiceId, x.amount.minor])).toEqual([[a.id, 2150], [b.id, 3000]]);
    expect(await h.client.getInvoice(a.id)).toMatchObject({ status: 'paid', balance: usd(0), amount: usd(2150) });
    expect(await h.client.getInvoice(b.id)).toMatchObject({ status: 'paid', balance: usd(0) });

    const settled = await fetch(`${h.url}/admin/payments/${paymentId}/settle`, { method: 'POST', headers: { 'x-sandbox-admin-token': ADMIN } });
    expect(settled.status).toBe(200);
    expect((await h.client.getPayment(paymentId)).status).toBe('completed');
    const updates = await until(() => hooks.filter((x) => x.path === '/in/31' && x.body.id === paymentId), (x) => x.length === 1);
    expect(updates[0].body.status_id).toBe('4');
  });

  it('gives the invoices their balances back and drops the fee when a pending bank payment fails', async () => {
    const c = await newClient(h, 'V50000');
    const inv = await newInvoice(h, c.id, 'V-5', 2500);
    const payUrl = `${h.url}/client/pay/${inv.invitations[0].key}`;
    const paid = await postForm(`${payUrl}/confirm`, [
      ['invoice', inv.id], [`amount_${inv.id}`, '25'], ['method', 'bank'], ['fee_shown', '150'], ['agree_fee', '1'],
      ['bank_name', 'Pat'], ['bank_routing', '110000000'], ['bank_account', '000111111116'],
    ]);
    const paymentId = paid.location!.split('/').pop()!;
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ status: 'paid', amount: usd(2650) });

    const failed = h.sandbox.admin.failPayment(paymentId);
    expect(failed.status_id).toBe('3');
    expect(await h.client.getPayment(paymentId)).toMatchObject({ status: 'failed', statusId: 3 });
    const after = await h.client.getInvoice(inv.id);
    expect(after).toMatchObject({ status: 'sent', amount: usd(2500), balance: usd(2500), paidToDate: usd(0) });
    expect(after.lines.some((l) => l.typeId === LINE_TYPE.PAID_GATEWAY_FEE)).toBe(false);
    expect(() => h.sandbox.admin.settlePayment(paymentId)).toThrow(/not pending/);
  });

  it('declines a bad card and an amount above the balance without taking money', async () => {
    const c = await newClient(h, 'V60000');
    const inv = await newInvoice(h, c.id, 'V-6', 1000);
    const payUrl = `${h.url}/client/pay/${inv.invitations[0].key}`;
    const declined = await postForm(`${payUrl}/confirm`, [
      ['invoice', inv.id], [`amount_${inv.id}`, '10.00'], ['method', 'card'], ['fee_shown', '60'], ['agree_fee', '1'],
      ['card_number', '4000 0000 0000 0002'], ['card_expiry', '12/30'], ['card_cvc', '123'],
    ]);
    expect(declined.status).toBe(422);
    expect(declined.text).toContain('Your card was declined.');

    const tooMuch = await postForm(`${payUrl}/review`, [['invoice', inv.id], [`amount_${inv.id}`, '10.01'], ['method', 'card']]);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.text).toContain('more than its balance');
    expect(await h.client.getInvoice(inv.id)).toMatchObject({ balance: usd(1000), amount: usd(1000) });
    expect((await h.api('GET', `/api/v1/payments?client_id=${c.id}`)).body.data).toEqual([]);
  });

  it('saves a card on request and charges it on the auto_bill action', async () => {
    const c = await newClient(h, 'V70000');
    const first = await newInvoice(h, c.id, 'V-7a', 1000);
    const second = await newInvoice(h, c.id, 'V-7b', 2200);
    await postForm(`${h.url}/client/pay/${first.invitations[0].key}/confirm`, [
      ['invoice', first.id], [`amount_${first.id}`, '10.00'], ['method', 'card'], ['fee_shown', '60'], ['agree_fee', '1'], ['save_card', '1'],
      ['card_number', '4242424242424242'], ['card_expiry', '01/31'], ['card_cvc', '999'],
    ]);
    const billed = await h.client.bulkInvoices('auto_bill', [second.id]);
    expect(billed[0]).toMatchObject({ status: 'paid', balance: usd(0) });
  });
});

describe('Invoice Ninja sandbox pending bank payments', () => {
  it('settle on their own after pendingSettleMs', async () => {
    const h = await startHarness({ fees: FEES, pendingSettleMs: 200 });
    try {
      const c = await newClient(h, 'S10000');
      const inv = await newInvoice(h, c.id, 'S-1', 1000);
      const paid = await postForm(`${h.url}/client/pay/${inv.invitations[0].key}/confirm`, [
        ['invoice', inv.id], [`amount_${inv.id}`, '10.00'], ['method', 'bank'], ['fee_shown', '150'], ['agree_fee', '1'],
        ['bank_name', 'Pat'], ['bank_routing', '110000000'], ['bank_account', '000123456789'],
      ]);
      const id = paid.location!.split('/').pop()!;
      expect((await h.client.getPayment(id)).status).toBe('pending');
      await until(() => h.client.getPayment(id), (p) => p.status === 'completed', 3000);
    } finally {
      await h.sandbox.close();
    }
  });
});

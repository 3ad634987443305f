import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { LINE_TYPE } from '../../src/adapters/invoiceNinja';
import { type Harness, newClient, newInvoice, startHarness, usd } from './harness';

// A customer in a real browser (Debian's chromium driven by playwright-core): open the pay link, pay, see the
// receipt; then the production client sees the payment, the fee line and the new balance.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM}. Install it with \`apt-get update && apt-get install -y chromium\` ` +
        '(or point CHROMIUM_PATH at a Chromium binary). The browser tests need it and are never skipped.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

describe('Pay page in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness({ fees: { card: { percent: 3, fixedMinor: 30 }, bank: { percent: 0, fixedMinor: 150 } } });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.sandbox.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });
  afterEach(async () => {
    await page.close();
  });

  async function payByCard(agree = true) {
    await page.click('#continue');
    await page.waitForSelector('#confirm-form');
    await page.fill('#card_number', '4242 4242 4242 4242');
    await page.fill('#card_expiry', '12/30');
    await page.fill('#card_cvc', '123');
    if (agree) await page.check('#agree_fee');
    await Promise.all([page.waitForURL(/\/receipt\//), page.click('#submit-payment')]);
  }

  it('pays part of an invoice by card with the convenience fee and shows the receipt', async () => {
    const c = await newClient(h, 'B10000');
    const inv = await newInvoice(h, c.id, 'B-1', 10000);
    await page.goto(inv.invitations[0].payLink);

    expect(await page.isChecked('#pick-B-1')).toBe(true);
    await page.fill('#amount-B-1', '40.00');
    await page.check('#method-card');
    // the script previews the fee before anything is submitted
    await page.waitForFunction(`document.getElementById('sum-fee').textContent === '$1.50'`);
    expect(await page.textContent('#sum-total')).toBe('$41.50');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'pay-page.png'), fullPage: true });

    await page.click('#continue');
    await page.waitForSelector('#confirm-form');
    expect(await page.textContent('#review-fee')).toBe('$1.50');
    expect(await page.textContent('#review-total')).toBe('$41.50');
    await page.fill('#card_number', '4242 4242 4242 4242');
    await page.fill('#card_expiry', '12/30');
    await page.fill('#card_cvc', '123');
    await page.check('#agree_fee');
    await Promise.all([page.waitForURL(/\/receipt\//), page.click('#submit-payment')]);

    expect(await page.textContent('#receipt-status')).toContain('Payment successful');
    expect(await page.textContent('#receipt-amount')).toBe('$41.50');
    expect(await page.textContent('#receipt-fee')).toBe('$1.50');

    const paymentId = page.url().split('/').pop()!;
    const payment = await h.client.getPayment(paymentId);
    expect(payment).toMatchObject({ status: 'completed', amount: usd(4150), gatewayTypeId: '1' });
    const after = await h.client.getInvoice(inv.id);
    expect(after).toMatchObject({ statusId: 3, status: 'partial', amount: usd(10150), balance: usd(6000) });
    const feeLines = after.lines.filter((l) => l.typeId === LINE_TYPE.PAID_GATEWAY_FEE);
    expect(feeLines.map((l) => l.lineTotal)).toEqual([usd(150)]);
    expect(fs.statSync(path.join(ARTIFACTS, 'pay-page.png')).size).toBeGreaterThan(1000);
  });

  it('pays two invoices at once in full', async () => {
    const c = await newClient(h, 'B20000');
    const a = await newInvoice(h, c.id, 'B-2a', 2500);
    const b = await newInvoice(h, c.id, 'B-2b', 1250);
    await page.goto(a.invitations[0].payLink);
    await page.check('#pick-B-2b');
    // 25.00 + 12.50 = 37.50; fee 3% = 1.125 → 1.13, + 0.30 = 1.43
    await page.waitForFunction(`document.getElementById('sum-total').textContent === '$38.93'`);
    await payByCard();
    expect(await page.textContent('#receipt-amount')).toBe('$38.93');

    const payment = await h.client.getPayment(page.url().split('/').pop()!);
    expect(payment.invoices.map((i) => [i.invoiceId, i.amount.minor])).toEqual([
      [a.id, 2643],
      [b.id, 1250],
    ]);
    expect(await h.client.getInvoice(a.id)).toMatchObject({ status: 'paid', balance: usd(0) });
    expect(await h.client.getInvoice(b.id)).toMatchObject({ status: 'paid', balance: usd(0) });
  });

  it('will not pay until the fee is agreed to (the browser enforces the required checkbox)', async () => {
    const c = await newClient(h, 'B30000');
    const inv = await newInvoice(h, c.id, 'B-3', 1000);
    await page.goto(inv.invitations[0].payLink);
    await page.click('#continue');
    await page.waitForSelector('#confirm-form');
    await page.fill('#card_number', '4242424242424242');
    await page.fill('#card_expiry', '12/30');
    await page.fill('#card_cvc', '123');
    await page.click('#submit-payment');
    await page.waitForTimeout(200);
    expect(page.url()).not.toMatch(/receipt/);
    expect(await page.evaluate(`document.getElementById('agree_fee').validity.valueMissing`)).toBe(true);
    expect((await h.client.getInvoice(inv.id)).balance).toEqual(usd(1000));
  });
});

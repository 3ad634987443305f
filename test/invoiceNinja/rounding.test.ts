import { ADMIN, type Harness, newClient, startHarness } from './harness';

// Invoice Ninja rounds each line's tax to 2 places, per tax rate, and sums those (contract §7), so its totals can
// differ by a cent per line from a document-level computation (the ERP's). Expected figures are computed by hand.

describe('Invoice Ninja sandbox totals follow per-line tax rounding', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.sandbox.close());

  it('GST 5% + PST 7% on three lines: per-line rounding lands 0.01 above a document-level total', async () => {
    const c = await newClient(h, 'R10000');
    const inv = await h.client.createInvoice(
      {
        clientId: c.id,
        currency: 'USD',
        number: 'R-1',
        lines: [
          { productKey: 'A', quantity: 1, unitPriceMinor: 1234, taxes: [{ name: 'GST', rate: 5 }, { name: 'PST', rate: 7 }] },
          { productKey: 'B', quantity: 2, unitPriceMinor: 815, taxes: [{ name: 'GST', rate: 5 }, { name: 'PST', rate: 7 }] },
          { productKey: 'C', quantity: 1, unitPriceMinor: 99, taxes: [{ name: 'GST', rate: 5 }] },
        ],
      },
      { markSent: true },
    );
    // A: 12.34 → GST 0.617 → 0.62, PST 0.8638 → 0.86          line tax 1.48
    // B: 16.30 → GST 0.815 → 0.82, PST 1.141  → 1.14          line tax 1.96
    // C:  0.99 → GST 0.0495 → 0.05                              line tax 0.05
    // subtotal 29.63 + taxes 3.49 = 33.12
    // (document level: GST 29.63 × 5% = 1.4815 → 1.48, PST 28.64 × 7% = 2.0048 → 2.00; 3.48 → 33.11)
    expect(inv.lines.map((l) => [l.lineTotal.minor, l.taxAmount.minor])).toEqual([
      [1234, 148],
      [1630, 196],
      [99, 5],
    ]);
    expect(inv.totalTaxes.minor).toBe(349);
    expect(inv.amount.minor).toBe(3312);
    expect(inv.balance.minor).toBe(3312);
  });

  it('five half-cent taxes round up one by one: 0.05 where the document total has 0.03', async () => {
    const c = await newClient(h, 'R20000');
    const inv = await h.client.createInvoice(
      {
        clientId: c.id,
        currency: 'USD',
        number: 'R-2',
        lines: Array.from({ length: 5 }, (_, i) => ({ productKey: `P${i}`, quantity: 1, unitPriceMinor: 10, taxes: [{ name: 'VAT', rate: 5 }] })),
      },
      { markSent: true },
    );
    // each line 0.10 × 5% = 0.005 → 0.01; document: 0.50 × 5% = 0.025 → 0.03
    expect(inv.totalTaxes.minor).toBe(5);
    expect(inv.amount.minor).toBe(55);
  });

  it('applies a line discount before tax and rounds the line total to the currency first', async () => {
    const c = await newClient(h, 'R30000');
    const inv = await h.client.createInvoice(
      {
        clientId: c.id,
        currency: 'USD',
        number: 'R-3',
        lines: [
          { productKey: 'D', quantity: 1, unitPriceMinor: 9999, discountPercent: 15, taxes: [{ name: 'VAT', rate: 20 }] },
          { productKey: 'E', quantity: 3, unitPriceMinor: 3333, taxes: [{ name: 'VAT', rate: 20 }] },
          { productKey: 'F', quantity: '0.333', unitPrice: '10.00', taxes: [{ name: 'VAT', rate: 20 }] },
        ],
      },
      { markSent: true },
    );
    // D: 99.99 − 15% = 84.9915 → 84.99; VAT 16.998 → 17.00
    // E: 3 × 33.33 = 99.99;            VAT 19.998 → 20.00
    // F: 0.333 × 10.00 = 3.33;         VAT 0.666  → 0.67
    // subtotal 188.31 + taxes 37.67 = 225.98
    expect(inv.lines.map((l) => l.lineTotal.minor)).toEqual([8499, 9999, 333]);
    expect(inv.totalTaxes.minor).toBe(3767);
    expect(inv.amount.minor).toBe(22598);
  });

  it('rounds the invoice amount to the currency precision (JPY has none) while taxes keep 2 places', async () => {
    const c = await newClient(h, 'R40000', 'JPY');
    const inv = await h.client.createInvoice(
      { clientId: c.id, currency: 'JPY', number: 'R-4', lines: [{ productKey: 'G', quantity: 1, unitPriceMinor: 1235, taxes: [{ name: 'CT', rate: 10 }] }] },
      { markSent: true },
    );
    // 1235 × 10% = 123.50 (2 dp); amount 1358.50 → 1359 yen
    const raw = await h.api('GET', `/api/v1/invoices/${inv.id}`);
    expect(raw.body.data.total_taxes).toBe(123.5);
    expect(inv.amount).toEqual({ minor: 1359, currency: 'JPY' });
  });

  it('"float" tax arithmetic (admin route) lands a cent below on a .xx5 tax, as PHP floats can; "exact" again after', async () => {
    const c = await newClient(h, 'R90000');
    const make = (number: string) =>
      h.client.createInvoice({ clientId: c.id, currency: 'USD', number, lines: [{ productKey: 'A', quantity: 1, unitPriceMinor: 145, taxes: [{ name: 'VAT', rate: 10 }] }] }, { markSent: true });
    const setMode = (mode: unknown) => h.api('PUT', '/admin/tax-arithmetic', { mode }, { 'x-sandbox-admin-token': ADMIN });
    // 1.45 × 10% = 0.145: exact decimals round it to 0.15, a binary float (0.14499…) to 0.14.
    expect((await make('R-90')).amount.minor).toBe(160);
    expect(await setMode('float')).toMatchObject({ status: 200, body: { mode: 'float' } });
    const float = await make('R-91');
    expect([float.lines[0]!.taxAmount.minor, float.amount.minor]).toEqual([14, 159]);
    expect(await setMode('binary')).toMatchObject({ status: 400 });
    expect(await setMode('exact')).toMatchObject({ status: 200, body: { mode: 'exact' } });
    expect((await make('R-92')).amount.minor).toBe(160);
  });
});

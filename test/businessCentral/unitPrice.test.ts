import { salesInvoiceLineSchema } from '../../src/adapters/businessCentral/schemas';

// A Business Central unit price is read exactly at the boundary (5 decimals, its unit-amount precision), never as money.
describe('Business Central unit prices', () => {
  const price = salesInvoiceLineSchema.shape.unitPrice;

  it('keeps up to 5 decimals exactly', () => {
    expect(price.parse(0.125)).toEqual({ units: 125, scale: 3 });
    expect(price.parse(0.33333)).toEqual({ units: 33333, scale: 5 });
    expect(price.parse(19.99)).toEqual({ units: 1999, scale: 2 });
  });

  it('refuses more decimals than Business Central keeps, naming the field, instead of rounding', () => {
    const r = price.safeParse(0.123456);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/unitPrice has more than 5 decimals/);
  });
});

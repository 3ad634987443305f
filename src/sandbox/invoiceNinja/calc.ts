import { add, dec, div, type Dec, isZero, mul, percentOf, roundTo, sub, toJsonNumber, toMinor, ZERO } from './decimal';

// Invoice Ninja's exclusive-tax invoice arithmetic (contract §7; app/Helpers/Invoice/InvoiceItemSum.php and
// InvoiceSum.php at the contract's basis):
//   line_total  = cost × quantity, less the line discount, rounded to the currency precision
//   line taxes  = each of tax_rate1..3 applied to the line total separately and rounded to 2 decimals, then summed
//   total_taxes = the sum of the named line taxes (+ invoice-level taxes on the discounted subtotal, also 2 dp)
//   amount      = subtotal − invoice discount + total_taxes, rounded to the currency precision
// Rounding is half away from zero on exact decimals. (The real server goes through PHP floats and number_format,
// which users report can land 0.01 off on some .xx5 values; that float noise is not imitated by default. `float`
// arithmetic imitates it for taxes: each tax as a binary float, rounded the naive way, so 10 % of 1.45 is 0.14.)

/** How taxes are computed: exact decimals (default), or binary floats that land a cent off on some .xx5 values. */
export type TaxArithmetic = 'exact' | 'float';

export interface CalcLine {
  quantity: string;
  cost: string;
  discount: string;
  tax_name1: string;
  tax_rate1: string;
  tax_name2: string;
  tax_rate2: string;
  tax_name3: string;
  tax_rate3: string;
}

export interface CalcInvoice {
  line_items: CalcLine[];
  discount: string;
  is_amount_discount: boolean;
  tax_name1: string;
  tax_rate1: string;
  tax_name2: string;
  tax_rate2: string;
  tax_name3: string;
  tax_rate3: string;
}

export interface LineResult {
  line_total: Dec;
  tax_amount: Dec;
  gross_line_total: Dec;
}

export interface CalcResult {
  lines: LineResult[];
  subTotal: Dec;
  discountTotal: Dec;
  totalTaxes: Dec;
  /** Invoice amount in minor units of the client's currency. */
  amountMinor: number;
}

/** Invoice Ninja only totals a tax that has a name (InvoiceItemSum::groupTax is called when strlen(name) > 1). */
const named = (name: string) => name.trim().length > 1;
const TAX_DP = 2;

/** `rate` % of `base`, rounded to TAX_DP places as `arithmetic` says. */
function taxOf(base: Dec, rate: string, arithmetic: TaxArithmetic): Dec {
  if (arithmetic === 'exact') return roundTo(percentOf(base, dec(rate || '0')), TAX_DP);
  const scale = 10 ** TAX_DP;
  return dec(Math.round(((toJsonNumber(base) * Number(rate || '0')) / 100) * scale) / scale);
}

export function calculateInvoice(inv: CalcInvoice, precision: number, arithmetic: TaxArithmetic = 'exact'): CalcResult {
  const invDiscount = dec(inv.discount || '0');
  let subTotal = ZERO;
  const lineTotals = inv.line_items.map((item) => {
    const gross = mul(dec(item.cost || '0'), dec(item.quantity || '0'));
    const discount = dec(item.discount || '0');
    const net = inv.is_amount_discount ? sub(gross, roundTo(discount, precision)) : sub(gross, percentOf(gross, discount));
    const lineTotal = roundTo(net, precision);
    subTotal = add(subTotal, lineTotal);
    return lineTotal;
  });

  // The base each line is taxed on: a percentage invoice discount reduces every line by that share; an amount
  // discount is spread pro rata over the subtotal (InvoiceItemSum::calcTaxesWithAmountDiscount).
  const taxBase = (lineTotal: Dec): Dec => {
    if (isZero(invDiscount)) return lineTotal;
    if (!inv.is_amount_discount) return sub(lineTotal, percentOf(lineTotal, invDiscount));
    if (subTotal.n <= 0n) return ZERO;
    return sub(lineTotal, mul(lineTotal, div(invDiscount, subTotal)));
  };

  let totalTaxes = ZERO;
  const lines: LineResult[] = inv.line_items.map((item, i) => {
    const lineTotal = lineTotals[i];
    const base = taxBase(lineTotal);
    let itemTax = ZERO;
    for (const [name, rate] of [
      [item.tax_name1, item.tax_rate1],
      [item.tax_name2, item.tax_rate2],
      [item.tax_name3, item.tax_rate3],
    ] as const) {
      const tax = taxOf(base, rate, arithmetic);
      itemTax = add(itemTax, tax);
      if (named(name ?? '')) totalTaxes = add(totalTaxes, tax);
    }
    return { line_total: lineTotal, tax_amount: itemTax, gross_line_total: add(lineTotal, itemTax) };
  });

  const discountTotal = inv.is_amount_discount ? invDiscount : roundTo(percentOf(subTotal, invDiscount), TAX_DP);
  const discounted = sub(subTotal, discountTotal);
  for (const [name, rate] of [
    [inv.tax_name1, inv.tax_rate1],
    [inv.tax_name2, inv.tax_rate2],
    [inv.tax_name3, inv.tax_rate3],
  ] as const) {
    if (named(name ?? '')) totalTaxes = add(totalTaxes, taxOf(discounted, rate, arithmetic));
  }

  return { lines, subTotal, discountTotal, totalTaxes, amountMinor: toMinor(add(discounted, totalTaxes), precision) };
}

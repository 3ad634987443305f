import { formatScaled, parseScaled, roundDiv } from './fixedPoint';

// The tax rule the sandbox implements (Business Central's VAT calculation for "Normal VAT", prices excluding tax):
//   line amount      = round(quantity × unit price)                       (amount rounding precision, half away from 0;
//                      the unit price has up to 5 decimals, BC's unit-amount precision, so 1000 × 0.125 is 125.00)
//   line discount    = round(line amount × discount % / 100)
//   amount excl. tax = line amount − line discount
//   tax per document = for each tax rate (VAT identifier): round(Σ amount excl. tax of its lines × rate / 100)
//   tax per line     = the running remainder within its rate group, in line order:
//                      round(cumulative base × rate / 100) − tax already given to earlier lines of that group
// So the document total is exact per rate, and single lines may differ by a cent from round(line × rate), which is
// where a portal that rounds per line disagrees (the seed's 0.01 rounding line). Comment lines carry no amounts.

const QTY_DECIMALS = 5;
const PCT_DECIMALS = 5;
const PRICE_DECIMALS = 5;
const QTY_SCALE = 10n ** BigInt(QTY_DECIMALS);
const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);
const PCT_SCALE = 100n * 10n ** BigInt(PCT_DECIMALS);

export interface LineInput {
  lineType: 'Item' | 'Account' | 'Resource' | 'Comment';
  quantity: string;
  /** Decimal string, up to 5 places (major units). */
  unitPrice: string;
  discountPercent: string;
  taxPercent: string;
}

export interface LineAmounts {
  lineAmountMinor: number;
  discountMinor: number;
  amountExclMinor: number;
  taxMinor: number;
  amountInclMinor: number;
}

export interface DocumentAmounts {
  lines: LineAmounts[];
  totalExclMinor: number;
  totalTaxMinor: number;
  totalInclMinor: number;
  discountMinor: number;
}

/**
 * A line's tax as the API's `totalTaxAmount` gives it: its own amount × rate, rounded by itself (the API computes it per
 * line); the document's tax, distributed over the lines, is `netTaxAmount` (the posted line's Amount Including VAT − Amount).
 */
export function ownLineTaxMinor(amountExclMinor: number, taxPercent: string): number {
  return Number(roundDiv(BigInt(amountExclMinor) * parseScaled(taxPercent, PCT_DECIMALS, 'taxPercent'), PCT_SCALE));
}

/** A unit price as BC keeps it: up to 5 decimals, whatever the currency's amount precision. */
export function parseUnitPrice(value: string | number): string {
  return formatScaled(parseScaled(value, PRICE_DECIMALS, 'unitPrice'), PRICE_DECIMALS);
}

/** `exponent`: the currency's amount decimals (2 for USD): the line amount is rounded to it. */
export function computeDocument(lines: LineInput[], exponent: number): DocumentAmounts {
  const cumulative = new Map<string, { base: bigint; tax: bigint }>();
  const out: LineAmounts[] = [];
  for (const line of lines) {
    if (line.lineType === 'Comment') {
      out.push({ lineAmountMinor: 0, discountMinor: 0, amountExclMinor: 0, taxMinor: 0, amountInclMinor: 0 });
      continue;
    }
    const qty = parseScaled(line.quantity, QTY_DECIMALS, 'quantity');
    const disc = parseScaled(line.discountPercent, PCT_DECIMALS, 'discountPercent');
    const rate = parseScaled(line.taxPercent, PCT_DECIMALS, 'taxPercent');
    if (rate < 0n || disc < 0n || disc > PCT_SCALE) throw new RangeError('tax and discount percentages must be within 0..100');
    const price = parseScaled(line.unitPrice, PRICE_DECIMALS, 'unitPrice');
    const lineAmount = roundDiv(qty * price * 10n ** BigInt(exponent), QTY_SCALE * PRICE_SCALE);
    const discount = roundDiv(lineAmount * disc, PCT_SCALE);
    const excl = lineAmount - discount;
    const key = rate.toString();
    const group = cumulative.get(key) ?? { base: 0n, tax: 0n };
    const base = group.base + excl;
    const taxTotal = roundDiv(base * rate, PCT_SCALE);
    const tax = taxTotal - group.tax;
    cumulative.set(key, { base, tax: taxTotal });
    out.push({
      lineAmountMinor: Number(lineAmount),
      discountMinor: Number(discount),
      amountExclMinor: Number(excl),
      taxMinor: Number(tax),
      amountInclMinor: Number(excl + tax),
    });
  }
  const sum = (f: (l: LineAmounts) => number) => out.reduce((a, l) => a + f(l), 0);
  return {
    lines: out,
    totalExclMinor: sum((l) => l.amountExclMinor),
    totalTaxMinor: sum((l) => l.taxMinor),
    totalInclMinor: sum((l) => l.amountInclMinor),
    discountMinor: sum((l) => l.discountMinor),
  };
}

/**
 * The rule that makes the portal invoice and the ERP invoice agree to the cent (also in docs/rounding.md).
 *
 * Invoice Ninja recomputes every total from the line items we send (it ignores any amount we post), like this
 * (app/Helpers/Invoice/InvoiceItemSum.php, InvoiceSum.php, Taxer.php; formatValue = sprintf('%f') then number_format):
 *   line_total = fv(cost × quantity − cost × quantity × discount% / 100, currency precision)
 *   line tax   = fv(line_total × tax_rate / 100, 2)  for each of tax_rate1..3 whose tax_name has 2+ characters;
 *                always 2 decimals, whatever the currency
 *   amount     = fv(Σ line_total + Σ line tax, currency precision)
 * where fv(x, p) rounds x to 6 decimals, then to p decimals, halves away from zero. We send invoice-level discount 0, no
 * invoice-level taxes, no surcharges and exclusive taxes, so nothing else enters the amount.
 *
 * The ERP rounds tax per document (per tax group), Invoice Ninja per line, so the sums can differ by a cent or two. The rule:
 *  1. Each ERP line becomes one portal line whose line_total equals the ERP line amount excluding tax exactly:
 *     - `exact`:     quantity and unit price as in the ERP, when quantity × price rounds to the ERP amount;
 *     - `percent`:   quantity, price and a discount percentage (the ERP's, else the shortest one with at most 4 decimals)
 *                    that Invoice Ninja's formula turns into exactly the ERP amount;
 *     - `collapsed`: otherwise (prices including tax, invoice discounts spread over lines, ...) quantity 1 and cost = the
 *                    ERP amount, with the original quantity, price and discount kept in the notes.
 *     The tax rate and a tax name (the ERP tax code, else "Tax") are copied; a 0% line has no tax.
 *  2. The portal amount is computed with Invoice Ninja's formula above. When it differs from the ERP amount including tax,
 *     one untaxed line "Rounding" (quantity 1, cost = ERP total − portal amount, possibly negative) is added, so the
 *     portal amount equals the ERP amount including tax exactly (also for currencies without decimals, where the per-line
 *     taxes keep 2 decimals and only the final amount is rounded).
 *  3. An invoice partly paid at posting (ERP remaining < ERP total) gets a portal payment of total − remaining, keyed
 *     `paid-at-posting:<invoice number>`, so the portal balance equals the ERP remaining amount. A payment (not a negative
 *     line) keeps the invoice total equal on both sides and shows the money as paid.
 *  4. A rounding line larger than the tolerance (default: one unit per line, plus one; the unit is the minor unit, or 0.01 of
     the major unit in currencies with 3 decimals, where the portal's 2-decimal taxes are coarser) or inconsistent ERP totals are
 *     reported in `problems`: they mean a mapping error, not rounding, and must not be hidden by a large "Rounding" line.
 * Invoice Ninja's own result stays the authority: when the amount it returns differs from `portalAmountMinor` (automatic
 * taxes, a tax-exempt client, Rappen rounding), `adjustRoundingLine` recomputes the rounding line from the observed amount.
 */

import { Decimal, decimalToNumber, decimalToString, parseExactDecimal, pow10, roundHalfAway } from './decimal';
import { exponentOf, formatAmount, formatDecimal, toDecimalNumber } from './money';

export type DecimalInput = Decimal | string | number;

export interface ErpInvoiceLine {
  description: string;
  /** ERP item/account number, shown as the portal product key. */
  itemNumber?: string | null;
  /** Up to 5 decimals. */
  quantity: DecimalInput;
  /** Up to 5 decimals of the major unit (finer than money: 1000 × 0.125). */
  unitPrice: DecimalInput;
  /** Line discount amount. */
  lineDiscountMinor: number;
  /** The ERP's line discount %, tried first to express the discount on the portal. */
  discountPercent?: DecimalInput | null;
  /** e.g. 8.25 */
  taxPercent: DecimalInput;
  /** ERP tax code (VAT identifier or tax group), used as the portal tax name. */
  taxCode?: string | null;
  /** Amount the tax applies to: after line and invoice discounts (Business Central `netAmount`). */
  amountExcludingTaxMinor: number;
  taxMinor: number;
}

export interface ErpInvoiceForPortal {
  number: string;
  currency: string;
  lines: readonly ErpInvoiceLine[];
  totalExcludingTaxMinor: number;
  totalTaxMinor: number;
  totalIncludingTaxMinor: number;
  remainingMinor: number;
}

/** One Invoice Ninja `line_items[]` entry, exactly as sent. */
export interface PortalLineItem {
  product_key: string;
  notes: string;
  quantity: number;
  cost: number;
  discount: number;
  tax_name1: string;
  tax_rate1: number;
  tax_name2: string;
  tax_rate2: number;
  tax_name3: string;
  tax_rate3: number;
  type_id: '1';
}

/** No tax: Invoice Ninja's three tax slots, empty (invoice level, and the rounding line's). */
const NO_TAXES = {
  tax_name1: '',
  tax_rate1: 0,
  tax_name2: '',
  tax_rate2: 0,
  tax_name3: '',
  tax_rate3: 0,
} as const;

/** Invoice-level fields that must be sent with the line items for the formula above to hold. */
export const PORTAL_INVOICE_FIELDS = {
  uses_inclusive_taxes: false,
  is_amount_discount: false,
  discount: 0,
  ...NO_TAXES,
} as const;

export type LineMode = 'exact' | 'percent' | 'collapsed';

export interface LineBreakdown {
  mode: LineMode;
  lineTotalMinor: number;
  /** Invoice Ninja's tax for the line (2 decimals of the major unit). */
  portalTax: Decimal;
  erpTaxMinor: number;
}

export interface PortalTotals {
  lineTotalsMinor: number[];
  lineTaxes: Decimal[];
  subtotalMinor: number;
  /** Σ line taxes; 2 decimals, so it can hold fractions of a minor unit in currencies without decimals. */
  totalTaxes: Decimal;
  amountMinor: number;
}

export interface PaidAtPosting {
  amountMinor: number;
  idempotencyKey: string;
}

export interface PortalInvoicePlan {
  invoiceNumber: string;
  currency: string;
  invoiceFields: typeof PORTAL_INVOICE_FIELDS;
  /** What to send as `line_items`, the rounding line (if any) last. */
  lineItems: PortalLineItem[];
  lines: LineBreakdown[];
  /** Invoice Ninja's totals for the ERP lines alone, before the rounding line. */
  portalBeforeRounding: PortalTotals;
  /** ERP total − portal amount before rounding; 0 means no rounding line. */
  roundingMinor: number;
  /** The amount Invoice Ninja will compute for `lineItems`: the ERP amount including tax. */
  portalAmountMinor: number;
  /** The largest rounding line the rule allows for this invoice (a larger one means a mapping error, not rounding). */
  roundingToleranceMinor: number;
  paidAtPosting: PaidAtPosting | null;
  /** The portal balance once the paid-at-posting payment is recorded: the ERP remaining amount. */
  expectedPortalBalanceMinor: number;
  /** Empty when everything is consistent and the rounding line is within tolerance. */
  problems: string[];
}

export const ROUNDING_LABEL = 'Rounding';
const MAX_QUANTITY_DECIMALS = 5;
const MAX_PRICE_DECIMALS = 5;
const MAX_RATE_DECIMALS = 6;

export function paidAtPostingKey(invoiceNumber: string): string {
  return `paid-at-posting:${invoiceNumber}`;
}

export function planPortalInvoice(
  invoice: ErpInvoiceForPortal,
  opts: { roundingToleranceMinor?: number } = {},
): PortalInvoicePlan {
  const { currency } = invoice;
  const problems = erpConsistencyProblems(invoice);
  const items: PortalLineItem[] = [];
  const modes: LineMode[] = [];
  for (const [i, line] of invoice.lines.entries()) {
    const { item, mode } = mapLine(line, currency, `line ${i + 1}`);
    items.push(item);
    modes.push(mode);
  }
  const before = computePortalTotals(items, currency);
  const roundingMinor = invoice.totalIncludingTaxMinor - before.amountMinor;
  const lineItems = roundingMinor === 0 ? items : [...items, roundingLine(roundingMinor, currency)];

  // Per-line rounding is off by at most half a tax unit per line (0.01 of the major unit, coarser than the minor unit in
  // 3-decimal currencies), the ERP by half a minor unit per tax group: n + 1 units bounds both.
  const taxUnitMinor = Math.max(1, 10 ** (exponentOf(currency) - 2));
  const tolerance = opts.roundingToleranceMinor ?? (invoice.lines.length + 1) * taxUnitMinor;
  if (Math.abs(roundingMinor) > tolerance) {
    problems.push(
      `rounding of ${formatAmount(roundingMinor, currency)} exceeds the tolerance of ${formatDecimal(tolerance, currency)}: the lines do not add up to the ERP total`,
    );
  }

  let paidAtPosting: PaidAtPosting | null = null;
  if (invoice.remainingMinor < 0 || invoice.remainingMinor > invoice.totalIncludingTaxMinor) {
    problems.push(`ERP remaining amount ${invoice.remainingMinor} is outside 0..${invoice.totalIncludingTaxMinor}`);
  } else if (invoice.remainingMinor < invoice.totalIncludingTaxMinor) {
    paidAtPosting = {
      amountMinor: invoice.totalIncludingTaxMinor - invoice.remainingMinor,
      idempotencyKey: paidAtPostingKey(invoice.number),
    };
  }

  return {
    invoiceNumber: invoice.number,
    currency,
    invoiceFields: PORTAL_INVOICE_FIELDS,
    roundingToleranceMinor: tolerance,
    lineItems,
    lines: invoice.lines.map((line, i) => ({
      mode: modes[i]!,
      lineTotalMinor: before.lineTotalsMinor[i]!,
      portalTax: before.lineTaxes[i]!,
      erpTaxMinor: line.taxMinor,
    })),
    portalBeforeRounding: before,
    roundingMinor,
    portalAmountMinor: computePortalTotals(lineItems, currency).amountMinor,
    paidAtPosting,
    expectedPortalBalanceMinor: invoice.remainingMinor,
    problems,
  };
}

/**
 * Recomputes the rounding line from the amount Invoice Ninja actually returned for `plan.lineItems`, for when the portal
 * computed differently than predicted. Returns the line items to PUT and the new rounding; unchanged when it matches.
 * A rounding line beyond the plan's tolerance is not made: `problem` says why (the portal computed something else than
 * rounding: a currency, a discount or a tax setting of its own), and the caller refuses the invoice.
 */
export function adjustRoundingLine(
  plan: PortalInvoicePlan,
  observedAmountMinor: number,
  erpTotalMinor: number,
): { lineItems: PortalLineItem[]; roundingMinor: number; changed: boolean; problem?: string } {
  const correction = erpTotalMinor - observedAmountMinor;
  if (correction === 0) return { lineItems: plan.lineItems, roundingMinor: plan.roundingMinor, changed: false };
  const roundingMinor = plan.roundingMinor + correction;
  if (Math.abs(roundingMinor) > plan.roundingToleranceMinor) {
    const amount = (minor: number) => formatAmount(minor, plan.currency);
    return {
      lineItems: plan.lineItems,
      roundingMinor: plan.roundingMinor,
      changed: false,
      problem: `the portal computed ${amount(observedAmountMinor)} where ${amount(erpTotalMinor)} was due: a rounding line of ${amount(roundingMinor)} exceeds the tolerance of ${amount(plan.roundingToleranceMinor)}`,
    };
  }
  const base = plan.roundingMinor === 0 ? plan.lineItems : plan.lineItems.slice(0, -1);
  return {
    lineItems: roundingMinor === 0 ? base : [...base, roundingLine(roundingMinor, plan.currency)],
    roundingMinor,
    changed: true,
  };
}

/**
 * Invoice Ninja's totals for line items as sent (numbers as they travel in JSON), with the invoice-level fields of
 * PORTAL_INVOICE_FIELDS. Exact: every step is integer arithmetic on the decimal values.
 */
export function computePortalTotals(items: readonly PortalLineItem[], currency: string): PortalTotals {
  const exp = exponentOf(currency);
  const scale = Math.max(exp, 2);
  const lineTotalsMinor: number[] = [];
  const lineTaxes: Decimal[] = [];
  let sum = 0n; // in units of 10^-scale
  for (const item of items) {
    const qty = parseExactDecimal(item.quantity, 10, 'quantity');
    const cost = parseExactDecimal(item.cost, 10, 'cost');
    const disc = parseExactDecimal(item.discount, 10, 'discount');
    // cost × qty × (100 − discount) / 100, as one fraction.
    const num = BigInt(cost.units) * BigInt(qty.units) * (100n * pow10(disc.scale) - BigInt(disc.units));
    const den = pow10(cost.scale + qty.scale + disc.scale) * 100n;
    const lineTotal = formatValue(num, den, exp);
    let tax = 0n;
    for (const [name, rate] of [
      [item.tax_name1, item.tax_rate1],
      [item.tax_name2, item.tax_rate2],
      [item.tax_name3, item.tax_rate3],
    ] as const) {
      if (name.length < 2) continue; // Invoice Ninja only totals taxes with a name of 2+ characters.
      const r = parseExactDecimal(rate, 10, 'tax rate');
      tax += formatValue(lineTotal * BigInt(r.units), pow10(exp + r.scale + 2), 2);
    }
    lineTotalsMinor.push(Number(lineTotal));
    lineTaxes.push({ units: Number(tax), scale: 2 });
    sum += lineTotal * pow10(scale - exp) + tax * pow10(scale - 2);
  }
  const subtotalMinor = lineTotalsMinor.reduce((a, b) => a + b, 0);
  const totalTaxUnits = lineTaxes.reduce((a, t) => a + t.units, 0);
  return {
    lineTotalsMinor,
    lineTaxes,
    subtotalMinor,
    totalTaxes: { units: totalTaxUnits, scale: 2 },
    amountMinor: Number(formatValue(sum, pow10(scale), exp)),
  };
}

/** Invoice Ninja's formatValue: sprintf('%f') (6 decimals) then number_format(p), both rounding halves away from zero. */
function formatValue(num: bigint, den: bigint, precision: number): bigint {
  const micro = roundHalfAway(num * pow10(6), den);
  return roundHalfAway(micro * pow10(precision), pow10(6));
}

function mapLine(line: ErpInvoiceLine, currency: string, where: string): { item: PortalLineItem; mode: LineMode } {
  for (const field of ['lineDiscountMinor', 'amountExcludingTaxMinor', 'taxMinor'] as const) {
    if (!Number.isSafeInteger(line[field])) throw new RangeError(`${where}: ${field} must be an integer of minor units`);
  }
  const qty = toDecimal(line.quantity, MAX_QUANTITY_DECIMALS, `${where} quantity`);
  const price = toDecimal(line.unitPrice, MAX_PRICE_DECIMALS, `${where} unit price`);
  const rate = toDecimal(line.taxPercent, MAX_RATE_DECIMALS, `${where} tax percent`);
  const rateNumber = decimalToNumber(rate);
  const taxName = rate.units === 0 ? '' : line.taxCode && line.taxCode.trim().length >= 2 ? line.taxCode.trim() : 'Tax';
  const base = {
    product_key: line.itemNumber ?? '',
    notes: line.description,
    tax_name1: taxName,
    tax_rate1: taxName ? rateNumber : 0,
    tax_name2: '',
    tax_rate2: 0,
    tax_name3: '',
    tax_rate3: 0,
    type_id: '1' as const,
  };
  const quantity = decimalToNumber(qty);
  const cost = decimalToNumber(price);
  const net = line.amountExcludingTaxMinor;
  const fits = (discount: number) =>
    computePortalTotals([{ ...base, quantity, cost, discount }], currency).lineTotalsMinor[0] === net;

  if (line.lineDiscountMinor === 0 && fits(0)) return { item: { ...base, quantity, cost, discount: 0 }, mode: 'exact' };
  if (line.lineDiscountMinor !== 0) {
    for (const d of discountCandidates(line, qty, price, exponentOf(currency))) {
      if (d > 0 && d <= 100 && fits(d)) return { item: { ...base, quantity, cost, discount: d }, mode: 'percent' };
    }
  }
  const detail = [`${decimalToString(qty)} × ${formatPrice(price, exponentOf(currency))}`];
  if (line.lineDiscountMinor !== 0) detail.push(`less ${formatDecimal(line.lineDiscountMinor, currency)}`);
  return {
    item: { ...base, notes: `${line.description} (${detail.join(' ')})`, quantity: 1, cost: toDecimalNumber(net, currency), discount: 0 },
    mode: 'collapsed',
  };
}

/** The ERP's percentage first, then the exact discount ratio rounded to 0..4 decimals. */
function discountCandidates(line: ErpInvoiceLine, qty: Decimal, price: Decimal, exp: number): number[] {
  const out: number[] = [];
  if (line.discountPercent !== undefined && line.discountPercent !== null) {
    out.push(decimalToNumber(toDecimal(line.discountPercent, MAX_RATE_DECIMALS, 'discount percent')));
  }
  // gross = price × qty, in minor units × 10^-(price.scale + qty.scale − exp); ratio = 100 × discount / gross.
  const gross = BigInt(price.units) * BigInt(qty.units) * pow10(exp);
  if (gross !== 0n) {
    for (let k = 0; k <= 4; k++) {
      const units = roundHalfAway(100n * BigInt(line.lineDiscountMinor) * pow10(price.scale + qty.scale + k), gross);
      out.push(decimalToNumber({ units: Number(units), scale: k }));
    }
  }
  return [...new Set(out)];
}

/** A unit price with at least the currency's decimals: 0.125 stays 0.125, 12.5 shows as 12.50. */
function formatPrice(price: Decimal, exp: number): string {
  const scale = Math.max(price.scale, exp);
  const units = BigInt(price.units) * pow10(scale - price.scale);
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return units < 0n ? `-${text}` : text;
}

function roundingLine(amountMinor: number, currency: string): PortalLineItem {
  return {
    product_key: ROUNDING_LABEL,
    notes: ROUNDING_LABEL,
    quantity: 1,
    cost: toDecimalNumber(amountMinor, currency),
    discount: 0,
    ...NO_TAXES,
    type_id: '1',
  };
}

function erpConsistencyProblems(inv: ErpInvoiceForPortal): string[] {
  const problems: string[] = [];
  const net = inv.lines.reduce((a, l) => a + l.amountExcludingTaxMinor, 0);
  const tax = inv.lines.reduce((a, l) => a + l.taxMinor, 0);
  if (net !== inv.totalExcludingTaxMinor) {
    problems.push(`ERP lines add up to ${net} excluding tax, the document says ${inv.totalExcludingTaxMinor}`);
  }
  if (tax !== inv.totalTaxMinor) problems.push(`ERP line taxes add up to ${tax}, the document says ${inv.totalTaxMinor}`);
  if (inv.totalExcludingTaxMinor + inv.totalTaxMinor !== inv.totalIncludingTaxMinor) {
    problems.push(
      `ERP total excluding tax ${inv.totalExcludingTaxMinor} + tax ${inv.totalTaxMinor} is not the total including tax ${inv.totalIncludingTaxMinor}`,
    );
  }
  return problems;
}

function toDecimal(value: DecimalInput, maxScale: number, what: string): Decimal {
  if (typeof value === 'object') {
    if (!Number.isSafeInteger(value.units) || value.scale > maxScale) throw new RangeError(`${what} is not a valid decimal`);
    return value;
  }
  return parseExactDecimal(value, maxScale, what);
}

// Money is integer minor units plus an ISO 4217 currency code. Decimal strings/numbers from external APIs are
// parsed here (at the edge) and never used for arithmetic.

export interface Money {
  readonly minor: number;
  readonly currency: string;
}

// Minor-unit exponents that differ from 2; every other currency uses 2.
const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

export function exponentOf(currency: string): number {
  return EXPONENTS[currency.toUpperCase()] ?? 2;
}

export function money(minor: number, currency: string): Money {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`amount must be an integer number of minor units, got ${minor}`);
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`currency must be a 3-letter ISO code, got "${currency}"`);
  return { minor, currency };
}

/**
 * Parses a decimal amount ("12.34", 12.34, "-0.5") into minor units, rounding half away from zero at the currency's
 * exponent. Works on the decimal text, never on binary floating point products.
 */
export function parseDecimal(value: string | number, currency: string): number {
  const exp = exponentOf(currency);
  let text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(text)) throw new RangeError(`not a decimal amount: "${value}"`);
  const negative = text.startsWith('-');
  text = text.replace(/^[-+]/, '');
  const [intPart, fracPart = ''] = text.split('.');
  const padded = (fracPart + '0'.repeat(exp + 1)).slice(0, exp + 1);
  const units = BigInt((intPart || '0') + padded.slice(0, exp));
  const roundUp = Number(padded[exp]) >= 5 ? 1n : 0n;
  const abs = units + roundUp;
  const result = Number(negative ? -abs : abs);
  if (!Number.isSafeInteger(result)) throw new RangeError(`amount out of range: "${value}"`);
  return result === 0 ? 0 : result;
}

/** Formats minor units as a fixed decimal string ("12.34"). */
export function formatDecimal(minor: number, currency: string): string {
  const exp = exponentOf(currency);
  const negative = minor < 0;
  const digits = Math.abs(minor).toString().padStart(exp + 1, '0');
  const text = exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
  return negative ? `-${text}` : text;
}

/** Formats minor units as a JSON number for APIs that take decimal numbers (exact for |x| < 2^53 / 10^exp). */
export function toDecimalNumber(minor: number, currency: string): number {
  return Number(formatDecimal(minor, currency));
}

/** "12.34 USD": an amount as people read it. */
export function formatAmount(minor: number, currency: string): string {
  return `${formatDecimal(minor, currency)} ${currency}`;
}

export function formatMoney(m: Money): string {
  return formatAmount(m.minor, m.currency);
}

function numberToPlainString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  // toPrecision(15) drops binary noise (0.1 + 0.2 -> 0.3) and keeps every digit an API sends.
  const s = Number(n.toPrecision(15)).toString();
  if (!/e/i.test(s)) return s;
  return Number(n).toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

export class CurrencyMismatchError extends RangeError {
  constructor(a: string, b: string) {
    super(`currency mismatch: ${a} vs ${b}`);
    this.name = 'CurrencyMismatchError';
  }
}

export function sameCurrency(a: Money, b: Money): boolean {
  return a.currency === b.currency;
}

export function assertSameCurrency(a: Money, b: Money): void {
  if (!sameCurrency(a, b)) throw new CurrencyMismatchError(a.currency, b.currency);
}

export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.minor + b.minor, a.currency);
}

export function sub(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.minor - b.minor, a.currency);
}

export function negate(a: Money): Money {
  return money(a.minor === 0 ? 0 : -a.minor, a.currency);
}

/** Sum in one currency; the currency is explicit so an empty list still has one. */
export function sum(items: readonly Money[], currency: string): Money {
  let total = 0;
  for (const m of items) {
    if (m.currency !== currency) throw new CurrencyMismatchError(currency, m.currency);
    total += m.minor;
  }
  return money(total, currency);
}

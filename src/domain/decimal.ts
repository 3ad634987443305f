/**
 * Exact decimals for the non-money numbers of an invoice (quantities with up to 5 decimals, tax percentages such as 8.25),
 * kept as a scaled integer so they survive JSON (workflow payloads) unchanged and never pass through float arithmetic.
 * Also the one rounding primitive the tax rules need: round a rational number half away from zero.
 */

export interface Decimal {
  /** value = units / 10^scale */
  readonly units: number;
  readonly scale: number;
}

/**
 * Parses "1.5", 1.5, "-0.00125" into a Decimal. More decimals than `maxScale` is an error, never a silent rounding: a
 * quantity the ERP stores with 5 decimals must reach the portal exactly.
 */
export function parseExactDecimal(value: string | number, maxScale: number, what = 'value'): Decimal {
  const text = typeof value === 'number' ? plainNumber(value, what) : value.trim();
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`${what} is not a decimal number: "${value}"`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > maxScale) throw new RangeError(`${what} has more than ${maxScale} decimals: "${value}"`);
  const digits = `${m[2] || '0'}${frac}`;
  const units = Number(BigInt(digits)) * (m[1] === '-' ? -1 : 1);
  if (!Number.isSafeInteger(units)) throw new RangeError(`${what} is out of range: "${value}"`);
  return { units: units === 0 ? 0 : units, scale: frac.length };
}

export function decimal(units: number, scale: number): Decimal {
  if (!Number.isSafeInteger(units) || !Number.isInteger(scale) || scale < 0 || scale > 15) {
    throw new RangeError(`invalid decimal ${units}e-${scale}`);
  }
  return { units, scale };
}

export function decimalToString(d: Decimal): string {
  const negative = d.units < 0;
  const digits = Math.abs(d.units).toString().padStart(d.scale + 1, '0');
  const text = d.scale === 0 ? digits : `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}`.replace(/\.?0+$/, '');
  return negative ? `-${text}` : text;
}

/** The JSON number an API expects; exact for the magnitudes used here (at most 15 significant digits). */
export function decimalToNumber(d: Decimal): number {
  return Number(decimalToString(d));
}

export function isZeroDecimal(d: Decimal): boolean {
  return d.units === 0;
}

export const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** round(numerator / denominator) with halves rounded away from zero (PHP round(), BC's default rounding direction). */
export function roundHalfAway(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const q = (2n * abs + denominator) / (2n * denominator);
  return negative ? -q : q;
}

function plainNumber(n: number, what: string): string {
  if (!Number.isFinite(n)) throw new RangeError(`${what} is not a finite number: ${n}`);
  // toPrecision(15) drops binary noise and keeps every digit an API sends.
  const s = Number(n.toPrecision(15)).toString();
  const m = /^(-?)(\d)(?:\.(\d+))?e([-+]\d+)$/i.exec(s);
  if (!m) return s;
  // Expand exponent notation ("1.25e-7", "1e+21") into plain digits.
  const digits = m[2]! + (m[3] ?? '');
  const point = 1 + Number(m[4]);
  const body =
    point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return m[1] + body;
}

// Exact decimal arithmetic for the sandbox's invoice calculator: value = n / 10^s with a BigInt n. Quantities, unit
// costs and tax rates arrive as JSON decimals; multiplying them as binary floats would add noise the real server's
// rounding points would not see, so every product is exact and rounding happens only where Invoice Ninja rounds.

export interface Dec {
  readonly n: bigint;
  readonly s: number;
}

export const ZERO: Dec = { n: 0n, s: 0 };

const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

export function dec(value: string | number | Dec): Dec {
  if (typeof value === 'object') return value;
  let text = typeof value === 'number' ? plain(value) : value.trim();
  if (text === '') return ZERO;
  if (!DECIMAL.test(text)) throw new RangeError(`not a decimal number: "${value}"`);
  const negative = text.startsWith('-');
  text = text.replace(/^[-+]/, '');
  const [i, f = ''] = text.split('.');
  const n = BigInt((i || '0') + f);
  return { n: negative ? -n : n, s: f.length };
}

export function isDecimal(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && (value.trim() === '' || DECIMAL.test(value.trim()));
}

function plain(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const s = Number(n.toPrecision(15)).toString();
  return /e/i.test(s) ? n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '') : s;
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const s = Math.max(a.s, b.s);
  return [a.n * 10n ** BigInt(s - a.s), b.n * 10n ** BigInt(s - b.s), s];
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, s] = align(a, b);
  return { n: x + y, s };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, s] = align(a, b);
  return { n: x - y, s };
}

export function mul(a: Dec, b: Dec): Dec {
  return { n: a.n * b.n, s: a.s + b.s };
}

/** a × rate / 100 */
export function percentOf(a: Dec, rate: Dec): Dec {
  return { n: a.n * rate.n, s: a.s + rate.s + 2 };
}

/** a / b to `scale` places, half away from zero (only used for the invoice-level amount discount share). */
export function div(a: Dec, b: Dec, scale = 12): Dec {
  if (b.n === 0n) return ZERO;
  const num = a.n * 10n ** BigInt(b.s + scale + 1);
  const den = b.n * 10n ** BigInt(a.s);
  const q = num / den;
  return roundTo({ n: q, s: scale + 1 }, scale);
}

/** Rounds half away from zero (PHP round()) to `dp` places. */
export function roundTo(a: Dec, dp: number): Dec {
  if (a.s <= dp) return { n: a.n * 10n ** BigInt(dp - a.s), s: dp };
  const factor = 10n ** BigInt(a.s - dp);
  const negative = a.n < 0n;
  const abs = negative ? -a.n : a.n;
  let q = abs / factor;
  if ((abs % factor) * 2n >= factor) q += 1n;
  return { n: negative ? -q : q, s: dp };
}

export function cmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(a: Dec): boolean {
  return a.n === 0n;
}

/** Rounds to `exp` places and returns integer minor units. */
export function toMinor(a: Dec, exp: number): number {
  const r = roundTo(a, exp);
  const v = Number(r.n);
  if (!Number.isSafeInteger(v)) throw new RangeError('amount out of range');
  return v;
}

export function fromMinor(minor: number, exp: number): Dec {
  return { n: BigInt(minor), s: exp };
}

/** Canonical text without trailing zeros ("12.5", "3", "-0.01"). */
export function toText(a: Dec): string {
  if (a.s === 0) return a.n.toString();
  const negative = a.n < 0n;
  const digits = (negative ? -a.n : a.n).toString().padStart(a.s + 1, '0');
  const frac = digits.slice(-a.s).replace(/0+$/, '');
  const int = digits.slice(0, -a.s);
  const text = frac ? `${int}.${frac}` : int;
  return negative && text !== '0' ? `-${text}` : text;
}

/** JSON number for API output; exact for the magnitudes an invoice has. */
export function toJsonNumber(a: Dec): number {
  return Number(toText(a));
}

/** Display text with at least `minDp` decimals ("12.5" → "12.50", "0.125" stays). */
export function display(a: Dec | string, minDp = 2): string {
  const t = toText(typeof a === 'string' ? dec(a) : a);
  const [i, f = ''] = t.split('.');
  return f.length >= minDp ? t : `${i}.${f.padEnd(minDp, '0')}`;
}

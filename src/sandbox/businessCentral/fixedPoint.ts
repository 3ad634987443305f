// Exact decimal arithmetic for the sandbox's ledger: quantities and percentages are kept as scaled integers
// (BigInt) so tax and line amounts are computed without binary floating point.

/** Parses "1.5" / 1.5 into an integer scaled by 10^decimals ("1.5", 5 -> 150000n). Extra digits must be zero. */
export function parseScaled(value: string | number, decimals: number, what = 'value'): bigint {
  const text = typeof value === 'number' ? plain(value) : value.trim();
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`${what} is not a decimal number: "${value}"`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) throw new RangeError(`${what} has more than ${decimals} decimal places: "${value}"`);
  const scaled = BigInt((m[2] || '0') + frac.padEnd(decimals, '0'));
  return m[1] === '-' ? -scaled : scaled;
}

/** Formats a scaled integer back to a plain decimal string without trailing zeros ("150000n, 5" -> "1.5"). */
export function formatScaled(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const int = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** n / d rounded half away from zero (Business Central's '=' rounding at the amount precision). */
export function roundDiv(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (2n * d);
  return negative ? -q : q;
}

function plain(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const s = Number(n.toPrecision(15)).toString();
  return /e/i.test(s) ? n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '') : s;
}

import { decimal, decimalToNumber, decimalToString, isZeroDecimal, parseExactDecimal, roundHalfAway } from '../../src/domain/decimal';

describe('parseExactDecimal', () => {
  it.each<[string | number, number, number]>([
    ['1.5', 15, 1],
    ['1.50000', 15, 1],
    ['-0.00125', -125, 5],
    ['+3', 3, 0],
    ['.5', 5, 1],
    ['7.', 7, 0],
    [8.25, 825, 2],
    [0.1 + 0.2, 3, 1],
    [1.23456, 123456, 5],
    [1e-5, 1, 5],
    [-2.5e-3, -25, 4],
    [1e15, 1e15, 0],
    ['-0', 0, 0],
  ])('%p', (input, units, scale) => {
    expect(parseExactDecimal(input, 5, 'qty')).toEqual({ units, scale });
  });

  it('rejects more decimals than allowed, naming the value', () => {
    expect(() => parseExactDecimal('1.000001', 5, 'line 2 quantity')).toThrow('line 2 quantity has more than 5 decimals: "1.000001"');
  });

  it.each(['', '.', 'abc', '1,5', '1e5', '--1', NaN, Infinity])('rejects %p', (input) => {
    expect(() => parseExactDecimal(input as string, 5)).toThrow(RangeError);
  });

  it('rejects values beyond safe integers', () => {
    expect(() => parseExactDecimal('12345678901234567890', 0)).toThrow(/out of range/);
    expect(() => parseExactDecimal(1e21, 0)).toThrow(/out of range/);
  });
});

describe('decimal formatting', () => {
  it('prints without trailing zeros and round-trips', () => {
    expect(decimalToString({ units: 150, scale: 2 })).toBe('1.5');
    expect(decimalToString({ units: -125, scale: 5 })).toBe('-0.00125');
    expect(decimalToString({ units: 300, scale: 0 })).toBe('300');
    expect(decimalToString({ units: 0, scale: 3 })).toBe('0');
    expect(decimalToNumber({ units: 123456, scale: 5 })).toBe(1.23456);
    expect(isZeroDecimal(decimal(0, 2))).toBe(true);
    expect(() => decimal(1.5, 2)).toThrow(RangeError);
  });
});

describe('roundHalfAway', () => {
  it.each<[bigint, bigint, bigint]>([
    [5n, 2n, 3n],
    [-5n, 2n, -3n],
    [4n, 3n, 1n],
    [5n, 3n, 2n],
    [-4n, 3n, -1n],
    [1n, -2n, -1n],
    [0n, 7n, 0n],
    [2499975n, 1000000n, 2n],
  ])('%p / %p = %p', (n, d, q) => {
    expect(roundHalfAway(n, d)).toBe(q);
  });

  it('refuses division by zero', () => {
    expect(() => roundHalfAway(1n, 0n)).toThrow('division by zero');
  });
});

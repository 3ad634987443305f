import { CurrencyMismatchError, add, assertSameCurrency, money, negate, sameCurrency, sub, sum } from '../../src/domain/money';

describe('money arithmetic', () => {
  const usd = (m: number) => money(m, 'USD');

  it('adds, subtracts and negates in one currency', () => {
    expect(add(usd(1050), usd(-50))).toEqual(usd(1000));
    expect(sub(usd(1000), usd(1001))).toEqual(usd(-1));
    expect(negate(usd(5))).toEqual(usd(-5));
    expect(Object.is(negate(usd(0)).minor, 0)).toBe(true);
  });

  it('sums a list, including an empty one', () => {
    expect(sum([usd(1), usd(2), usd(3)], 'USD')).toEqual(usd(6));
    expect(sum([], 'JPY')).toEqual(money(0, 'JPY'));
  });

  it('refuses to mix currencies', () => {
    expect(sameCurrency(usd(1), money(1, 'EUR'))).toBe(false);
    expect(() => add(usd(1), money(1, 'EUR'))).toThrow(CurrencyMismatchError);
    expect(() => sum([usd(1), money(1, 'EUR')], 'USD')).toThrow('currency mismatch: USD vs EUR');
    expect(() => assertSameCurrency(usd(1), usd(2))).not.toThrow();
  });

  it('refuses results beyond safe integers', () => {
    expect(() => add(usd(Number.MAX_SAFE_INTEGER), usd(1))).toThrow(RangeError);
  });
});

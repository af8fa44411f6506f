import { axisDigits, plainPrice, priceDigits, usdPrice } from '../../../dashboard/client/price-format.js';

describe('priceDigits', () => {
  it.each([
    [95_432.17, 0],
    [1000, 0],
    [999.99, 2],
    [1.5, 2],
    [0.5, 4],
    [0.0123, 5],
    [0.0000517, 8],
    [3.2e-12, 15],
    [-0.0000517, 8],
    [0, 2],
    [Number.NaN, 2],
  ])('writes %p with %p decimals', (price, digits) => {
    expect(priceDigits(price)).toBe(digits);
  });
});

describe('usdPrice', () => {
  it.each([
    [95_432.17, '$95,432'],
    [1.23456, '$1.23'],
    [0.5, '$0.5000'],
    [0.0000517, '$0.00005170'],
    [null, '—'],
    [undefined, '—'],
  ])('writes %p as %p (4 significant digits under a dollar)', (price, text) => {
    expect(usdPrice(price)).toBe(text);
  });
});

describe('axisDigits', () => {
  it("uses the smallest price's decimals", () => {
    expect(axisDigits(0.0000469, 0.0000531)).toBe(8);
  });

  it('adds decimals until ticks a fraction of the span apart differ (a stablecoin near $1)', () => {
    const digits = axisDigits(0.9998, 1.0003);
    const ticks = [0.9998, 0.99992, 1.00005, 1.00018, 1.0003].map((p) => plainPrice(p, digits));
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('keeps whole dollars for a wide range of large prices', () => {
    expect(axisDigits(90_000, 97_000)).toBe(0);
  });
});

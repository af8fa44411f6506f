import { RetryableError } from '../../../core/errors.js';
import { parseHistory, resolutionOf } from '../../../core/history/history-points.js';

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);
/** A 30-day span (CoinGecko answers it hourly), in the seconds the fetch request carries. */
const SPAN = { fromS: T0 / 1000, toS: T0 / 1000 + 30 * 86_400 };
const at = (hours: number) => T0 + hours * HOUR_MS;

/** A market cap or volume entry in step with a price entry (0 where the price is not a number). */
const pair = (entry: unknown, factor: number) => {
  const [t, p] = Array.isArray(entry) ? (entry as unknown[]) : [];
  return [t, typeof p === 'number' ? p * factor : 0];
};

/** A body with the three series in step, as CoinGecko sends them. */
function body(prices: unknown[]) {
  return {
    prices,
    market_caps: prices.map((e) => pair(e, 1000)),
    total_volumes: prices.map((e) => pair(e, 10)),
  };
}

describe(parseHistory.name, () => {
  it('joins prices, market caps and volumes into points', () => {
    const parsed = parseHistory(
      body([
        [at(0), 1],
        [at(1), 2],
      ]),
      SPAN,
    );
    expect(parsed.points).toEqual([
      { observedAtMs: at(0), price: 1, marketCap: 1000, totalVolume: 10 },
      { observedAtMs: at(1), price: 2, marketCap: 2000, totalVolume: 20 },
    ]);
    expect(parsed.rejected).toEqual([]);
  });

  it('keeps arbitrary milliseconds of timestamps as sent', () => {
    const parsed = parseHistory(body([[at(0) + 123, 1]]), SPAN);
    expect(parsed.points[0]!.observedAtMs).toBe(at(0) + 123);
  });

  it('matches market caps and volumes to prices by timestamp, not by position', () => {
    const parsed = parseHistory(
      {
        prices: [
          [at(0), 1],
          [at(1), 2],
          [at(2), 3],
        ],
        market_caps: [
          [at(2), 300],
          [at(0), 100],
        ],
        total_volumes: [[at(1), 20]],
      },
      SPAN,
    );
    expect(parsed.points.map((p) => [p.marketCap, p.totalVolume])).toEqual([
      [100, null],
      [null, 20],
      [300, null],
    ]);
  });

  it('stores a missing, null, negative or non-numeric market cap or volume as null, and keeps a 0 as sent', () => {
    const parsed = parseHistory(
      {
        prices: [
          [at(0), 1],
          [at(1), 2],
          [at(2), 3],
          [at(3), 4],
        ],
        market_caps: [
          [at(0), null],
          [at(1), -5],
          [at(2), '7'],
          [at(3), 0],
        ],
      },
      SPAN,
    );
    expect(parsed.points.map((p) => p.marketCap)).toEqual([null, null, null, 0]);
    expect(parsed.points.map((p) => p.totalVolume)).toEqual([null, null, null, null]);
    expect(parsed.rejected).toEqual([]);
  });

  it('quarantines a point with a null price, with its reason and the values it came with, and keeps the others', () => {
    const parsed = parseHistory(
      body([
        [at(0), 1],
        [at(1), null],
        [at(2), 3],
      ]),
      SPAN,
    );
    expect(parsed.points.map((p) => p.observedAtMs)).toEqual([at(0), at(2)]);
    expect(parsed.rejected).toEqual([
      {
        index: 1,
        reason: 'price is null',
        record: { prices: [at(1), null], market_caps: [at(1), 0], total_volumes: [at(1), 0] },
      },
    ]);
  });

  it('quarantines a price that is not a finite number or is negative', () => {
    const parsed = parseHistory(
      body([
        [at(0), '1.5'],
        [at(1), -1],
        [at(2), 2],
      ]),
      SPAN,
    );
    expect(parsed.rejected.map((r) => [r.index, r.reason])).toEqual([
      [0, 'price is not a number'],
      [1, 'price is negative'],
    ]);
    expect(parsed.points.map((p) => p.price)).toEqual([2]);
  });

  it('quarantines entries whose timestamp is missing or not a number', () => {
    const parsed = parseHistory(body([[`${at(0)}`, 1], 'junk', [null, 2], [at(3), 3]]), SPAN);
    expect(parsed.rejected.map((r) => [r.index, r.reason])).toEqual([
      [0, 'timestamp is not a number'],
      [1, 'timestamp is not a number'],
      [2, 'timestamp is not a number'],
    ]);
    expect(parsed.points.map((p) => p.observedAtMs)).toEqual([at(3)]);
  });

  it('keeps the first of duplicated timestamps and quarantines the repeats', () => {
    const parsed = parseHistory(
      body([
        [at(0), 1],
        [at(1), 2],
        [at(1), 99],
        [at(2), 3],
      ]),
      SPAN,
    );
    expect(parsed.points.map((p) => p.price)).toEqual([1, 2, 3]);
    expect(parsed.rejected.map((r) => [r.index, r.reason])).toEqual([[2, `duplicated timestamp ${at(1)}`]]);
  });

  it('quarantines a timestamp earlier than the point before it', () => {
    const parsed = parseHistory(
      body([
        [at(0), 1],
        [at(2), 3],
        [at(1), 2],
        [at(3), 4],
      ]),
      SPAN,
    );
    expect(parsed.points.map((p) => p.observedAtMs)).toEqual([at(0), at(2), at(3)]);
    expect(parsed.rejected.map((r) => [r.index, r.reason])).toEqual([
      [2, `out-of-order timestamp ${at(1)} after ${at(2)}`],
    ]);
  });

  it('accepts an empty prices array (a coin with no history in the range)', () => {
    expect(parseHistory({ prices: [], market_caps: [], total_volumes: [] }, SPAN)).toEqual({
      points: [],
      rejected: [],
      resolutionS: 3600,
    });
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'Throttled'],
    ['an object without prices', { error: 'coin not found' }],
    ['prices that are not an array', { prices: {} }],
  ])('refuses a body that is %s whole, as retryable', (_what, json) => {
    expect(() => parseHistory(json, SPAN)).toThrow(RetryableError);
    expect(() => parseHistory(json, SPAN)).toThrow(/market_chart\/range: expected an object with a prices array/);
  });
});

describe(resolutionOf.name, () => {
  const points = (stepMs: number, n: number, extraAt?: number) => {
    const list = Array.from({ length: n }, (_, i) => ({
      observedAtMs: T0 + i * stepMs,
      price: 1,
      marketCap: null,
      totalVolume: null,
    }));
    if (extraAt !== undefined) list.push({ observedAtMs: extraAt, price: 1, marketCap: null, totalVolume: null });
    return list;
  };

  it.each([
    [300, 5 * 60_000],
    [3600, HOUR_MS],
    [86_400, 24 * HOUR_MS],
  ])('detects %i-second points', (seconds, stepMs) => {
    expect(resolutionOf(points(stepMs, 10), SPAN)).toBe(seconds);
  });

  it('ignores the final point at "now", off the grid', () => {
    const hourly = points(HOUR_MS, 24);
    expect(resolutionOf(points(HOUR_MS, 24, hourly.at(-1)!.observedAtMs + 17_345), SPAN)).toBe(3600);
  });

  it('snaps steps near one of the three granularities to it', () => {
    expect(resolutionOf(points(HOUR_MS + 1234, 10), SPAN)).toBe(3600);
    expect(resolutionOf(points(4 * 60_000, 10), SPAN)).toBe(300);
  });

  it.each([
    ['a day', 86_400, 300],
    ['90 days', 90 * 86_400, 3600],
    ['91 days', 91 * 86_400, 86_400],
  ])('with fewer than two points, follows the documented rule for a span of %s', (_what, spanS, expected) => {
    expect(resolutionOf(points(HOUR_MS, 1), { fromS: 0, toS: spanS })).toBe(expected);
    expect(resolutionOf([], { fromS: 0, toS: spanS })).toBe(expected);
  });
});

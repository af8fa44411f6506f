import { DAY_MS, HOUR_MS, MAX_CALL_SPAN_MS, planHistoryItems, uncovered } from '../../../core/history/plan-history.js';

const NOW = Date.UTC(2026, 11, 7);
const daysAgo = (days: number) => NOW - days * DAY_MS;

describe(uncovered.name, () => {
  it('returns the whole range when nothing covers it', () => {
    expect(uncovered(0, 100, [])).toEqual([[0, 100]]);
  });

  it('returns nothing when one range covers it', () => {
    expect(uncovered(10, 90, [[0, 100]])).toEqual([]);
  });

  it('returns the holes between covered ranges, oldest first, whatever their order', () => {
    expect(
      uncovered(0, 100, [
        [60, 70],
        [10, 20],
      ]),
    ).toEqual([
      [0, 10],
      [20, 60],
      [70, 100],
    ]);
  });

  it('merges overlapping and touching covered ranges', () => {
    expect(
      uncovered(0, 100, [
        [10, 40],
        [30, 50],
        [50, 60],
      ]),
    ).toEqual([
      [0, 10],
      [60, 100],
    ]);
  });

  it('ignores covered ranges outside [from, to]', () => {
    expect(
      uncovered(40, 60, [
        [0, 10],
        [90, 100],
      ]),
    ).toEqual([[40, 60]]);
  });

  it('clips covered ranges that stick out of [from, to]', () => {
    expect(
      uncovered(40, 60, [
        [30, 45],
        [55, 70],
      ]),
    ).toEqual([[45, 55]]);
  });
});

describe(planHistoryItems.name, () => {
  it('makes one call per coin for a range of up to 90 days', () => {
    expect(planHistoryItems(['bitcoin', 'ethereum'], daysAgo(30), NOW, new Map(), HOUR_MS)).toEqual([
      { coinId: 'bitcoin', fromMs: daysAgo(30), toMs: NOW },
      { coinId: 'ethereum', fromMs: daysAgo(30), toMs: NOW },
    ]);
    expect(planHistoryItems(['bitcoin'], daysAgo(90), NOW, new Map(), HOUR_MS)).toHaveLength(1);
  });

  it('cuts a longer range into calls of at most 90 days, newest first for every coin before older ones', () => {
    const items = planHistoryItems(['bitcoin', 'ethereum'], daysAgo(200), NOW, new Map(), HOUR_MS);
    expect(items).toEqual([
      { coinId: 'bitcoin', fromMs: daysAgo(90), toMs: NOW },
      { coinId: 'ethereum', fromMs: daysAgo(90), toMs: NOW },
      { coinId: 'bitcoin', fromMs: daysAgo(180), toMs: daysAgo(90) },
      { coinId: 'ethereum', fromMs: daysAgo(180), toMs: daysAgo(90) },
      { coinId: 'bitcoin', fromMs: daysAgo(200), toMs: daysAgo(180) },
      { coinId: 'ethereum', fromMs: daysAgo(200), toMs: daysAgo(180) },
    ]);
    for (const item of items) expect(item.toMs - item.fromMs).toBeLessThanOrEqual(MAX_CALL_SPAN_MS);
  });

  it('covers the range exactly: no gap and no overlap between a coin’s calls', () => {
    const items = planHistoryItems(['bitcoin'], daysAgo(365), NOW, new Map(), HOUR_MS).sort(
      (a, b) => a.fromMs - b.fromMs,
    );
    expect(items[0]!.fromMs).toBe(daysAgo(365));
    expect(items.at(-1)!.toMs).toBe(NOW);
    for (let i = 1; i < items.length; i++) expect(items[i]!.fromMs).toBe(items[i - 1]!.toMs);
  });

  it('plans whole seconds, so that a 90-day range with the clock’s milliseconds stays one call of at most 90 days', () => {
    const now = NOW + 123.4;
    const items = planHistoryItems(['bitcoin'], now - 90 * DAY_MS, now, new Map(), HOUR_MS);
    expect(items).toEqual([{ coinId: 'bitcoin', fromMs: NOW + 1000 - 90 * DAY_MS, toMs: NOW + 1000 }]);
    // What the fetch job sends (start-history-run.ts): the same range, in UNIX seconds.
    const { fromMs, toMs } = items[0]!;
    expect(Math.ceil(toMs / 1000) - Math.floor(fromMs / 1000)).toBe(90 * 86_400);
  });

  it('leaves out what earlier runs fetched, for that coin only', () => {
    const fetched = new Map([['bitcoin', [[daysAgo(30), daysAgo(10)] as const]]]);
    expect(planHistoryItems(['bitcoin', 'ethereum'], daysAgo(30), NOW, fetched, HOUR_MS)).toEqual([
      { coinId: 'bitcoin', fromMs: daysAgo(10), toMs: NOW },
      { coinId: 'ethereum', fromMs: daysAgo(30), toMs: NOW },
    ]);
  });

  it('plans nothing when everything was fetched', () => {
    const fetched = new Map([['bitcoin', [[daysAgo(40), NOW] as const]]]);
    expect(planHistoryItems(['bitcoin'], daysAgo(30), NOW, fetched, HOUR_MS)).toEqual([]);
  });

  it('skips uncovered parts shorter than minSpanMs (a re-run an hour later spends no call per coin)', () => {
    const fetched = new Map([['bitcoin', [[daysAgo(30), NOW - 30 * 60_000] as const]]]);
    expect(planHistoryItems(['bitcoin'], daysAgo(30), NOW, fetched, HOUR_MS)).toEqual([]);
    expect(planHistoryItems(['bitcoin'], daysAgo(30), NOW, fetched, 60_000)).toEqual([
      { coinId: 'bitcoin', fromMs: NOW - 30 * 60_000, toMs: NOW },
    ]);
  });

  it('plans each hole between fetched ranges as its own calls', () => {
    const fetched = new Map([
      [
        'bitcoin',
        [
          [daysAgo(20), daysAgo(15)],
          [daysAgo(5), daysAgo(2)],
        ] as const,
      ],
    ]);
    expect(planHistoryItems(['bitcoin'], daysAgo(20), NOW, fetched, HOUR_MS)).toEqual([
      { coinId: 'bitcoin', fromMs: daysAgo(2), toMs: NOW },
      { coinId: 'bitcoin', fromMs: daysAgo(15), toMs: daysAgo(5) },
    ]);
  });
});

import { loadConfig } from '../../../core/config/index.js';
import { callBudget, overloadAdvice } from '../../../producers/tick/call-budget.js';

/** The demo-plan case: 30 calls/min, 2,500 coins in 10 calls, a 10 s tick, COIN_IDS (no ranking pages). */
const demo = (env: Record<string, string> = {}) =>
  loadConfig({
    COINGECKO_RATE_LIMIT_PER_MIN: '30',
    TICK_INTERVAL: '10s',
    COIN_IDS: 'bitcoin,ethereum',
    UNIVERSE_REFRESH_INTERVAL: '1h',
    ...env,
  });

describe(callBudget.name, () => {
  it('is overloaded when a tick needs more calls than the limit allows in one interval', () => {
    // 10 batches + the coin list once an hour (1 call × 10 s / 1 h = 0.0028, rounded to 0).
    expect(callBudget(demo(), 10)).toEqual({ callsNeeded: 10, callsAllowed: 5, overloaded: true });
  });

  it('fits when the interval is long enough', () => {
    expect(callBudget(demo({ TICK_INTERVAL: '30s' }), 10)).toEqual({
      callsNeeded: 10.01,
      callsAllowed: 15,
      overloaded: false,
    });
  });

  it("counts the universe refresh's share: its coin list and, for the top N, its ranking pages", () => {
    // Top 2,500: 1 list + 10 ranking pages every 10 min, a tenth of that per 1 min tick.
    const config = loadConfig({
      COINGECKO_RATE_LIMIT_PER_MIN: '30',
      TICK_INTERVAL: '1m',
      TRACK_TOP_N: '2500',
      UNIVERSE_REFRESH_INTERVAL: '10m',
    });
    expect(callBudget(config, 10)).toEqual({ callsNeeded: 11.1, callsAllowed: 30, overloaded: false });
  });

  it('is never overloaded without a rate limit', () => {
    expect(callBudget(demo({ COINGECKO_RATE_LIMIT_PER_MIN: '0' }), 1000)).toEqual({
      callsNeeded: 1000,
      callsAllowed: null,
      overloaded: false,
    });
  });
});

describe(overloadAdvice.name, () => {
  it('names both numbers and what to change: fewer coins, a longer TICK_INTERVAL or a higher plan', () => {
    const config = demo();
    const advice = overloadAdvice(config, callBudget(config, 10), 2500);
    expect(advice).toContain('needs 10 CoinGecko calls but 30 calls/min allow 5 per 10s tick');
    expect(advice).toContain('superseded');
    expect(advice).toContain('about 1250 fit');
    expect(advice).toContain('TICK_INTERVAL to 20s or more');
    expect(advice).toContain('higher rate limit');
  });
});

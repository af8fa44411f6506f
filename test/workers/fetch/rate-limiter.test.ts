import { loadConfig, type AppConfig } from '../../../core/config/index.js';
import { fetchLimiter } from '../../../workers/fetch/rate-limiter.js';

const base = loadConfig({});
const limiterFor = (perMinute: number) =>
  fetchLimiter({ ...base, coingecko: { ...base.coingecko, rateLimitPerMin: perMinute } } satisfies AppConfig);

/**
 * BullMQ starts at most `max` jobs per `duration` window, a window opening with its first job; with
 * max 1 the busiest schedule starts one job every `duration` ms. Returns the most starts seen in any
 * 60 s span (sliding, and aligned to CoinGecko's minute boundaries) over ten minutes.
 */
function busiestMinute(durationMs: number): number {
  const starts: number[] = [];
  for (let t = 0; t < 600_000; t += durationMs) starts.push(t);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[j]! < starts[i]! - 59_999) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe(fetchLimiter.name, () => {
  it('reads the limit from the configuration', () => {
    expect(fetchLimiter(loadConfig({ COINGECKO_RATE_LIMIT_PER_MIN: '30' }))).toEqual(limiterFor(30));
  });

  it.each([5, 30, 300, 500, 1000])('starts at most %d calls in any 60 s span', (limit) => {
    const { max, duration } = limiterFor(limit);
    expect(max).toBe(1);
    expect(Math.floor(60_000 / duration) + 1).toBeLessThanOrEqual(limit);
    expect(busiestMinute(duration)).toBeLessThanOrEqual(limit);
  });

  it.each([30, 300, 500, 1000])('uses at least 95%% of a %d/min allowance', (limit) => {
    const { duration } = limiterFor(limit);
    expect(60_000 / duration / limit).toBeGreaterThanOrEqual(0.95);
  });

  it('never allows more than the limit, for every limit from 1 to 100 000', () => {
    const offenders: number[] = [];
    for (let limit = 1; limit <= 100_000; limit++) {
      const { max, duration } = limiterFor(limit);
      if (max * (Math.floor(60_000 / duration) + 1) > limit) offenders.push(limit);
      if (offenders.length > 10) break;
    }
    expect(offenders).toEqual([]);
  });

  it('gives "unlimited" (0) a very high limit rather than none', () => {
    const { max, duration } = limiterFor(0);
    expect((max * 60_000) / duration).toBeGreaterThanOrEqual(1_000_000);
  });

  it('follows the plan default when no limit is set', () => {
    expect(fetchLimiter(loadConfig({}))).toEqual(limiterFor(5));
    expect(fetchLimiter(loadConfig({ COINGECKO_PLAN: 'pro', COINGECKO_API_KEY: 'CG-abcdefgh12345678' }))).toEqual(
      limiterFor(500),
    );
  });
});

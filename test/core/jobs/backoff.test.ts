import { jitteredBackoff } from '../../../core/jobs/backoff.js';
import { VARIABLES } from '../../../core/config/index.js';
import { PermanentError, RateLimitedError, RetryableError } from '../../../core/errors.js';

describe(jitteredBackoff.name, () => {
  const lowest = () => 0;
  const highest = () => 1 - Number.EPSILON;

  it('doubles per attempt, half fixed and half random', () => {
    const low = jitteredBackoff(1000, 3_600_000, lowest);
    const high = jitteredBackoff(1000, 3_600_000, highest);
    expect([1, 2, 3, 4, 5].map((attempt) => low(attempt))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4, 5].map((attempt) => high(attempt))).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(jitteredBackoff(1000, 3_600_000, () => 0.5)(3)).toBe(3000);
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(jitteredBackoff(1000, 60_000, lowest)(0)).toBe(500);
  });

  it('never exceeds maxDelayMs, however many attempts were made', () => {
    const backoff = jitteredBackoff(1000, 60_000, highest);
    for (const attempt of [7, 8, 20, 100, 2000]) expect(backoff(attempt)).toBe(60_000);
    expect(jitteredBackoff(1000, 60_000, lowest)(2000)).toBe(30_000);
  });

  it('stays within [exponential/2, exponential] for any random draw', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return (seed - 1) / 2_147_483_646;
    };
    const backoff = jitteredBackoff(250, 30_000, random);
    const seen = new Set<number>();
    for (let attempt = 1; attempt <= 12; attempt++) {
      const exponential = Math.min(30_000, 250 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const delay = backoff(attempt);
        expect(delay).toBeGreaterThanOrEqual(exponential / 2);
        expect(delay).toBeLessThanOrEqual(exponential);
        seen.add(delay);
      }
    }
    expect(seen.size).toBeGreaterThan(1000); // really jittered, not a constant
  });

  it('is equal jitter: attempt n waits from half of base·2^(n-1) to all of it, never near zero, and reaches both ends', () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return (seed - 1) / 2_147_483_646;
    };
    const base = 1000;
    const backoff = jitteredBackoff(base, 3_600_000, random);
    for (let attempt = 1; attempt <= 6; attempt++) {
      const full = base * 2 ** (attempt - 1);
      const delays = Array.from({ length: 2000 }, () => backoff(attempt));
      const [low, high] = [Math.min(...delays), Math.max(...delays)];
      // Full jitter would draw from [0, full]: a quarter of its draws fall below full/4, none of these do.
      expect(low).toBeGreaterThanOrEqual(full / 2);
      expect(low).toBeLessThan(full / 2 + full * 0.01);
      expect(high).toBeLessThanOrEqual(full);
      expect(high).toBeGreaterThan(full - full * 0.01);
      // Uniform over the upper half: its mean is three quarters of full.
      const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
      expect(Math.abs(mean - 0.75 * full)).toBeLessThan(0.02 * full);
    }
  });

  it('is what RETRY_BASE_DELAY documents', () => {
    const documented = VARIABLES.RETRY_BASE_DELAY.description;
    expect(documented).toContain('equal jitter');
    expect(documented).not.toMatch(/full jitter/);
  });

  describe('Retry-After', () => {
    const backoff = jitteredBackoff(1000, 60_000, lowest);
    const retryable = (retryAfterMs: number) => new RetryableError('HTTP 503', { retryAfterMs });

    it('waits as long as the server asked when that is longer', () => {
      expect(backoff(1, 'custom', retryable(10_000))).toBe(10_000);
    });

    it('keeps the backoff when it is longer than the server asked', () => {
      expect(backoff(6, 'custom', retryable(2000))).toBe(16_000);
    });

    it("caps the server's wait at maxDelayMs", () => {
      expect(backoff(1, 'custom', retryable(3_600_000))).toBe(60_000);
    });

    it('ignores errors that are not RetryableError', () => {
      expect(backoff(1, 'custom', new RateLimitedError('429', 30_000))).toBe(500);
      expect(backoff(1, 'custom', new PermanentError('400'))).toBe(500);
      expect(backoff(1, 'custom', new RetryableError('reset'))).toBe(500);
    });
  });
});

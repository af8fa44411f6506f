import type { AppConfig } from '../../core/config/index.js';

/**
 * BullMQ's limiter is a fixed window that counts job starts, and its windows are not aligned with
 * CoinGecko's minute windows: with { max: L, duration: 60 s } two bursts of L can land in one
 * CoinGecko minute. One start per window of ~60000/(0.97·L) ms spreads calls evenly instead, so any
 * 60 s span holds at most 60000/duration + 1 ≤ L calls while using ~97% of the allowance.
 * An unlimited plan still gets a (very high) limiter: queue.rateLimit() after a 429 only pauses
 * workers that have one.
 */
export const RATE_LIMIT_EFFICIENCY = 0.97;

export function fetchLimiter(config: AppConfig): { max: number; duration: number } {
  const perMinute = config.coingecko.rateLimitPerMin;
  if (perMinute === 0) return { max: 100_000, duration: 1000 };
  return { max: 1, duration: Math.ceil(60_000 / (perMinute * RATE_LIMIT_EFFICIENCY)) };
}

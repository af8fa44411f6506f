import type { AppConfig } from '../../core/config/index.js';
import { formatDurationMs } from '../../core/config/index.js';
import { universeCalls } from '../universe/handle-universe.js';

/**
 * A tick's CoinGecko call budget: the calls one tick needs against the calls the rate limit allows
 * in one tick interval. When it needs more, the fetch queue cannot keep up: without supersession
 * (supersede-batches.ts) its backlog would grow for ever, and a batch fetched minutes late returns
 * current prices anyway, not the ones of its tick.
 */
export interface CallBudget {
  /** The tick's /coins/markets calls (its batches) plus the universe refresh's share of a tick. */
  readonly callsNeeded: number;
  /** COINGECKO_RATE_LIMIT_PER_MIN × TICK_INTERVAL, whole calls; null when the limit is 0 (unlimited). */
  readonly callsAllowed: number | null;
  readonly overloaded: boolean;
}

export function callBudget(config: AppConfig, batchesPerTick: number): CallBudget {
  const { intervalMs } = config.tick;
  const universeShare = (universeCalls(config) * intervalMs) / config.universe.refreshIntervalMs;
  // Two decimals: the refresh's share is a fraction of a call, and a ledger column shows it.
  const callsNeeded = Math.round((batchesPerTick + universeShare) * 100) / 100;
  const perMinute = config.coingecko.rateLimitPerMin;
  const callsAllowed = perMinute === 0 ? null : Math.floor((perMinute * intervalMs) / 60_000);
  return { callsNeeded, callsAllowed, overloaded: callsAllowed !== null && callsNeeded > callsAllowed };
}

/** What an operator reads when a tick needs more calls than allowed: both numbers and what to change. */
export function overloadAdvice(config: AppConfig, budget: CallBudget, coins: number): string {
  const perMinute = config.coingecko.rateLimitPerMin;
  const needed = Math.ceil(budget.callsNeeded);
  const interval = Math.ceil((needed * 60_000) / perMinute / 1000) * 1000;
  const coinsThatFit = Math.floor((coins * (budget.callsAllowed ?? 0)) / Math.max(needed, 1));
  return (
    `a tick needs ${budget.callsNeeded} CoinGecko calls but ${perMinute} calls/min allow ${budget.callsAllowed} ` +
    `per ${formatDurationMs(config.tick.intervalMs)} tick: batches not fetched when the next tick is planned are ` +
    `superseded by it. Track fewer coins (about ${coinsThatFit} fit), set TICK_INTERVAL to ${formatDurationMs(interval)} ` +
    `or more, or use a plan with a higher rate limit (COINGECKO_PLAN, COINGECKO_RATE_LIMIT_PER_MIN)`
  );
}

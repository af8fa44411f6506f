import { tickCallsAllowed, tickCallsNeeded } from '../../core/metrics/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { callBudget, overloadAdvice, type CallBudget } from '../tick/call-budget.js';
import { idsBudget, planBatches } from '../tick/plan-batches.js';
import { resolveUniverse } from '../tick/resolve-universe.js';

/**
 * At start-up: can the tracked coins be fetched within one tick interval under the rate limit? The
 * tracked coins are batched as a tick would batch them (before the first universe refresh, the top N
 * are estimated at COINGECKO_MAX_IDS_PER_CALL per call). When they cannot, a warning says by how much
 * and what to change; the gauges say it to Prometheus, every tick's ledger row to the Pipeline page.
 */
export async function checkCallBudget(runtime: Runtime): Promise<CallBudget & { coins: number }> {
  const { config, pool, logger } = runtime;
  const coinIds = await resolveUniverse(pool, config, undefined);
  const coins = coinIds.length > 0 ? coinIds.length : config.universe.topN;
  const batches =
    coinIds.length > 0
      ? planBatches(coinIds, {
          maxIds: config.coingecko.maxIdsPerCall,
          maxIdsBytes: idsBudget(config.coingecko.baseUrl, config.coingecko.maxUrlBytes),
        }).length
      : Math.ceil(coins / config.coingecko.maxIdsPerCall);
  const budget = callBudget(config, batches);
  tickCallsNeeded.set(budget.callsNeeded);
  tickCallsAllowed.set(budget.callsAllowed ?? Infinity);
  if (budget.overloaded) {
    logger.warn('a tick needs more CoinGecko calls than the rate limit allows', {
      callsNeeded: budget.callsNeeded,
      callsAllowed: budget.callsAllowed,
      coins,
      advice: overloadAdvice(config, budget, coins),
    });
  }
  return { ...budget, coins };
}

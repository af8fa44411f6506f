import { DelayedError } from 'bullmq';
import { PermanentError } from '../../core/errors.js';
import type { Handler } from '../../core/jobs/run-job.js';
import { recordPlannedRun, setTransformStatus } from '../../core/pipeline/run-ledger.js';
import { jobIds } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { ensureInitialBackfill } from '../../core/history/initial-backfill.js';
import { ensurePartitionsAhead } from '../../core/snapshots/partitions.js';
import { tickCallsAllowed, tickCallsNeeded } from '../../core/metrics/registry.js';
import { callBudget } from './call-budget.js';
import { idsBudget, planBatches } from './plan-batches.js';
import { queueBacklog } from './queue-backlog.js';
import { resolveUniverse } from './resolve-universe.js';
import { supersedeOlderBatches } from './supersede-batches.js';
import { tickFlow } from './tick-flow.js';
import { runIdentity } from '../run-identity.js';

const UNIVERSE_POLL_MS = 2000;

/**
 * Plans one tick: resolve the coins, record the plan and its call budget in the ledger, supersede the
 * unfetched batches of older ticks (before this tick's flow is added, so the fetch queue never holds
 * more than one tick's unfetched batches), enqueue the tick's flow.
 */
export function tickHandler(runtime: Runtime): Handler<'tick'> {
  const { config, pool } = runtime;
  // Once this process has seen the first-start backfill recorded, it stops asking.
  let initialBackfillChecked = config.history.backfillDays === 0;
  return async ({ job, data, log: jobLog, token }) => {
    const { runId, scheduledAt } = runIdentity(job, 't');
    const log = jobLog.child({ runId });
    const coinIds = await resolveUniverse(pool, config, data.coinIds);
    if (coinIds.length === 0) {
      // First start: the universe refresh runs alongside the first tick; wait for it, within reason.
      if (Date.now() - job.timestamp < config.universe.waitMs) {
        log.info('no ranked coins yet; waiting for the universe refresh', { retryInMs: UNIVERSE_POLL_MS });
        await job.moveToDelayed(Date.now() + UNIVERSE_POLL_MS, token);
        throw new DelayedError();
      }
      throw new PermanentError(
        `no coins to fetch: raw.coins has no ranked active coin after ${config.universe.waitMs}ms (is the universe refresh failing?)`,
      );
    }
    await ensurePartitionsAhead(pool, config.load.partitionDaysAhead);
    const planned = planBatches(coinIds, {
      maxIds: config.coingecko.maxIdsPerCall,
      maxIdsBytes: idsBudget(config.coingecko.baseUrl, config.coingecko.maxUrlBytes),
    });
    const budget = callBudget(config, planned.length);
    tickCallsNeeded.set(budget.callsNeeded);
    tickCallsAllowed.set(budget.callsAllowed ?? Infinity);
    const queueDepth = await queueBacklog(runtime);
    if (!queueDepth) log.warn('could not read the fetch and load queue counts; the tick is recorded without them');
    const { batches, created } = await recordPlannedRun(pool, {
      runId,
      trigger: data.trigger,
      scheduledAt,
      batches: planned,
      budget,
      queueDepth,
    });
    // Only when the tracked coins cannot be fetched within a tick interval under the limit: then the
    // backlog would grow without bound. Otherwise a burst of ticks (added by hand, or after a pause)
    // drains on its own, and each keeps its own prices.
    const superseded = budget.overloaded ? await supersedeOlderBatches(runtime, runId, batches.flat()) : [];
    if (superseded.length > 0) {
      log.warn('superseded unfetched batches of older ticks: the fetch queue cannot keep up with the ticks', {
        superseded: superseded.length,
        runs: [...new Set(superseded.map((b) => b.runId))],
        callsNeeded: budget.callsNeeded,
        callsAllowed: budget.callsAllowed,
      });
    }
    await runtime.flows.add(tickFlow(config, runId, batches));
    await setTransformStatus(pool, runId, 'queued', { jobId: jobIds.transform(runId) });
    const coins = batches.reduce((n, b) => n + b.length, 0);
    if (!initialBackfillChecked && data.coinIds === undefined) {
      // After the tick's own flow: its calls are queued first, and carry no priority, so they go first.
      // A failure here must not fail a tick whose flow is queued: the next tick tries again.
      try {
        const started = await ensureInitialBackfill(runtime, coinIds);
        if (started?.created)
          log.info('first start: backfilling history', {
            historyRunId: started.historyRunId,
            calls: started.items,
            coins: started.coins,
          });
        initialBackfillChecked = true;
      } catch (error) {
        log.warn('could not start the first-start backfill; the next tick tries again', {
          error: (error as Error).message,
        });
      }
    }
    log.info('tick planned', { batches: batches.length, coins, replanned: !created, superseded: superseded.length });
    return { runId, status: created ? 'planned' : 'replanned', batches: batches.length, coins };
  };
}

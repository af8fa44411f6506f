/** Scheduler process: owns the job schedulers (tick, universe refresh) and plans ticks. */
import { closeWorker } from '../../core/jobs/close-worker.js';
import { boot } from '../../core/process/boot.js';
import { watchRedis } from '../../core/process/redis-watch.js';
import { serveMetrics } from '../../core/process/serve-metrics.js';
import { Runtime } from '../../core/runtime.js';
import { ensurePartitionsAhead } from '../../core/snapshots/partitions.js';
import { formatDurationMs } from '../../core/config/index.js';
import { startPlannerWorkers } from '../planner-workers.js';
import { checkCallBudget } from './call-budget-check.js';
import { startSchedulerWatchdog, upsertJobSchedulers } from './job-schedulers.js';

const SERVICE = 'scheduler';
const { config, logger, lifecycle } = boot(SERVICE);
const runtime = new Runtime(config, logger, SERVICE);
lifecycle.onShutdown('runtime', () => runtime.close());
await serveMetrics(config, logger, lifecycle);
const stopWatch = watchRedis(runtime.redis, logger);
lifecycle.onShutdown('redis watch', async () => stopWatch());

await ensurePartitionsAhead(runtime.pool, config.load.partitionDaysAhead);
const budget = await checkCallBudget(runtime);
const plannerWorkers = startPlannerWorkers(runtime);
// In parallel: the shutdown budget (SHUTDOWN_TIMEOUT) is per closer, not per worker.
lifecycle.onShutdown('planner workers', () =>
  Promise.all(plannerWorkers.map((w) => closeWorker(w, config.jobs.shutdownTimeoutMs))),
);
let upserted = false;
if (config.tick.scheduleEnabled) {
  upserted = await upsertJobSchedulers(runtime);
  const stopWatchdog = startSchedulerWatchdog(runtime, Math.max(5000, Math.min(config.tick.intervalMs, 60_000)));
  lifecycle.onShutdown('scheduler watchdog', async () => stopWatchdog());
}
logger.info('scheduler started', {
  tickEvery: formatDurationMs(config.tick.intervalMs),
  universeEvery: formatDurationMs(config.universe.refreshIntervalMs),
  universe: config.universe.coinIds ? `${config.universe.coinIds.length} explicit ids` : `top ${config.universe.topN}`,
  schedules: config.tick.scheduleEnabled
    ? upserted
      ? 'upserted'
      : 'upserted by another replica'
    : 'disabled (planning manual ticks only)',
  callsPerTick: { needed: budget.callsNeeded, allowed: budget.callsAllowed ?? 'unlimited' },
});

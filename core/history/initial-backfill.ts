import { PLANS } from '../coingecko/plans.js';
import type { Runtime } from '../runtime.js';
import { DAY_MS, HOUR_MS } from './plan-history.js';
import { startHistoryRun, type StartedHistoryRun } from './start-history-run.js';

/**
 * The first-start backfill (BACKFILL_DAYS): once per database, for the coins the first tick tracks.
 * Whichever scheduler's tick gets here first records it; the others find it recorded (a unique index
 * allows one 'initial' run). The range stops short of the plan's reach by a day, so that its oldest
 * call is not refused for reaching a few minutes too far back.
 */
export async function ensureInitialBackfill(
  runtime: Runtime,
  coinIds: readonly string[],
  now = Date.now(),
): Promise<StartedHistoryRun | undefined> {
  const { config, pool } = runtime;
  const requestedDays = config.history.backfillDays;
  if (requestedDays === 0 || coinIds.length === 0) return undefined;
  const { rowCount } = await pool.query(`select 1 from pipeline.history_runs where kind = 'initial'`);
  if (rowCount !== 0) return undefined;
  const reach = PLANS[config.coingecko.plan].historyDays;
  const days = reach === undefined ? requestedDays : Math.min(requestedDays, reach - 1);
  return startHistoryRun(runtime, {
    historyRunId: `i${now}`,
    kind: 'initial',
    coinIds,
    fromMs: now - days * DAY_MS,
    toMs: now,
    minSpanMs: HOUR_MS,
    requested: {
      BACKFILL_DAYS: requestedDays,
      days,
      ...(days < requestedDays ? { clampedTo: `${reach} days of the ${config.coingecko.plan} plan` } : {}),
    },
  });
}

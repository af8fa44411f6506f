import { detectGaps, type GapRules } from '../../core/history/detect-gaps.js';
import { settleGapRepairs, startGapRepairs } from '../../core/history/repair-gaps.js';
import { resumeHistoryRuns } from '../../core/history/resume-history-runs.js';
import { DAY_MS } from '../../core/history/plan-history.js';
import type { Runtime } from '../../core/runtime.js';

/** The gap rules of the configuration; the look-back never reaches past the raw retention. */
export function gapRules(runtime: Runtime): GapRules {
  const { history, transform } = runtime.config;
  const retentionMs = transform.rawRetentionDays > 0 ? transform.rawRetentionDays * DAY_MS : Infinity;
  return {
    thresholdMs: history.gapThresholdMs,
    lookbackMs: Math.min(history.gapLookbackMs, retentionMs),
    maxCoins: history.gapRepairMaxCoins,
  };
}

/**
 * One pass of the watchdog over history and coverage: resumes history runs whose jobs vanished,
 * records new gaps, starts their repairs and settles the repairs that finished. Resuming comes first
 * so that a repair started in this pass is not looked at before its jobs are added.
 */
export async function watchCoverage(runtime: Runtime, now = Date.now()): Promise<void> {
  const { logger } = runtime;
  for (const run of await resumeHistoryRuns(runtime))
    logger.warn('history run resumed: its jobs had vanished from Redis', { ...run });
  for (const gap of await detectGaps(runtime.pool, gapRules(runtime), now))
    logger.warn('coverage gap detected', {
      gapId: gap.gapId,
      from: new Date(gap.fromMs).toISOString(),
      to: new Date(gap.toMs).toISOString(),
      coins: gap.coins,
    });
  for (const repair of await startGapRepairs(runtime)) logger.info('coverage gap repair started', { ...repair });
  for (const settled of await settleGapRepairs(runtime)) logger.info('coverage gap repair finished', { ...settled });
}

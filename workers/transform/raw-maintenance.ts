import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import type { Runtime } from '../../core/runtime.js';
import { refreshPartitionStatistics } from '../../core/snapshots/partition-statistics.js';
import { dropAgedRawPartitions } from './engine/retention.js';

/**
 * The transform's maintenance step, after each successful run (single-flight, so never twice at once):
 * raw retention, then fresh statistics on the partitions being loaded. Partitions are created ahead by
 * the scheduler (producers/tick). Neither step fails the transform: each is tried again after the next run.
 */
export async function maintainRawPartitions(runtime: Pick<Runtime, 'pool' | 'config'>, log: Logger): Promise<void> {
  const { pool, config } = runtime;
  try {
    const retention = await dropAgedRawPartitions(pool, {
      retentionDays: config.transform.rawRetentionDays,
      martsSchema: `${config.transform.schema}_marts`,
      vsCurrency: config.coingecko.vsCurrency,
      lockTimeoutMs: config.transform.rawRetentionLockTimeoutMs,
    });
    if (retention.dropped.length > 0) log.info('dropped aged raw partitions', { dropped: retention.dropped });
    if (retention.kept.length > 0)
      log.warn('kept aged raw partitions: some snapshots have no candle', { kept: retention.kept });
    if (retention.busy.length > 0)
      log.warn('aged raw partitions left for the next run: loads or reads held the raw table past the lock timeout', {
        busy: retention.busy,
      });
  } catch (error) {
    log.warn('raw retention failed; will try again after the next run', { reason: errorMessage(error) });
  }
  try {
    const { analyzed } = await refreshPartitionStatistics(pool);
    if (analyzed.length > 0) log.info('analyzed raw partitions', { analyzed });
  } catch (error) {
    log.warn('analyzing raw partitions failed; will try again after the next run', { reason: errorMessage(error) });
  }
}

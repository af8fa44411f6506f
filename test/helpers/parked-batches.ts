import { decodePreparedBatch, encodeValidatedBatch, validateSnapshotBatch, type PreparedBatch } from '../../core/snapshots/prepared-batch.js';
import type { SnapshotContext } from '../../core/snapshots/snapshot-row.js';

/**
 * A parsed /coins/markets array as its load reads it: validated, encoded as the fetch worker parks it
 * (`leaveOut`: valid rows whose key the fetch worker's check found loaded; without it, unchecked),
 * and decoded again. Needs no server.
 */
export function parkedBatchOf(context: SnapshotContext, items: readonly unknown[], texts?: readonly string[], leaveOut?: readonly number[]): PreparedBatch {
  return decodePreparedBatch(encodeValidatedBatch(context, validateSnapshotBatch(context, items, texts), leaveOut), context);
}

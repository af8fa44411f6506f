import { decodeParkedBatch, encodeParkedBatch, type ParkedBatch } from '../../core/handoff/parked-batch.js';
import type { SnapshotContext } from '../../core/snapshots/snapshot-row.js';
import { validateSnapshotBatch } from '../../core/snapshots/validated-batch.js';

/**
 * A parsed /coins/markets array as its load reads it: validated, encoded as the fetch worker parks it
 * (`leaveOut`: valid rows whose key the fetch worker's check found loaded; without it, unchecked),
 * and decoded again. Needs no server.
 */
export function parkedBatchOf(
  context: SnapshotContext,
  items: readonly unknown[],
  texts?: readonly string[],
  leaveOut?: readonly number[],
): ParkedBatch {
  return decodeParkedBatch(encodeParkedBatch(context, validateSnapshotBatch(context, items, texts), leaveOut), context);
}

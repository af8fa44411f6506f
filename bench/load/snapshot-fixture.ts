import { toJson } from '../../simulator/json.js';
import { startSimulator } from '../../simulator/server.js';

/** The records one benchmark loads: `steps` market snapshots of `coins` coins, cut into 250-record batches. */
export interface SnapshotFixture {
  /** batches[step][batchNo] = the parsed /coins/markets items of one call. */
  readonly batches: readonly (readonly Record<string, unknown>[])[][];
  /** bodies[step][batchNo] = that call's response body, serialised as the simulator's HTTP API sends it. */
  readonly bodies: readonly (readonly string[])[];
  readonly rows: number;
  /** Every distinct last_updated (partitions must exist for them). */
  readonly timestamps: readonly string[];
}

export const BATCH_SIZE = 250;

/**
 * Realistic records straight from the simulator: each step is the whole universe `stepMs` later, so
 * every coin has a new last_updated and no row conflicts with another.
 */
export async function snapshotFixture(coins: number, steps: number): Promise<SnapshotFixture> {
  const simulator = await startSimulator({ coins, stepMs: 10_000 });
  try {
    const ids = simulator.control.universeIds();
    const base = Date.now() - steps * 10_000;
    const batches: Record<string, unknown>[][][] = [];
    const timestamps = new Set<string>();
    for (let step = 0; step < steps; step++) {
      const records = simulator.control.marketsSnapshot(ids, 'usd', base + step * 10_000);
      const stepBatches: Record<string, unknown>[][] = [];
      for (let i = 0; i < records.length; i += BATCH_SIZE) stepBatches.push(records.slice(i, i + BATCH_SIZE));
      for (const r of records) timestamps.add(String(r.last_updated));
      batches.push(stepBatches);
    }
    const bodies = batches.map((stepBatches) => stepBatches.map((items) => toJson(items)));
    return { batches, bodies, rows: coins * steps, timestamps: [...timestamps] };
  } finally {
    await simulator.close();
  }
}

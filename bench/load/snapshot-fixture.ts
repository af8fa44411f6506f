import { toJson } from '../../simulator/json.js';
import { startSimulator } from '../../simulator/server.js';

/**
 * The records one benchmark loads: `steps` market snapshots of `coins` coins, cut into 250-record
 * batches. Only the response bodies are kept (strings, cheap for the garbage collector): 150k
 * parsed records held for the whole run would make every major GC of the loaders being measured
 * mark them, which a real load worker (one or two batches in memory) never pays.
 */
export interface SnapshotFixture {
  /** bodies[step][batchNo] = one call's response body, serialised as the simulator's HTTP API sends it. */
  readonly bodies: readonly (readonly string[])[];
  /** ids[step][batchNo] = the coin ids of that batch, in order (the run ledger's plan). */
  readonly ids: readonly (readonly string[])[][];
  readonly rows: number;
  /** Every distinct last_updated (partitions must exist for them). */
  readonly timestamps: readonly string[];
}

export const BATCH_SIZE = 250;

/**
 * Realistic records straight from the simulator: each step is the whole universe `stepMs` later, so
 * every coin has a new last_updated and no row conflicts with another.
 */
export async function snapshotFixture(
  coins: number,
  steps: number,
  changeTimeframes: readonly string[] = [],
): Promise<SnapshotFixture> {
  const simulator = await startSimulator({ coins, stepMs: 10_000 });
  try {
    const ids = simulator.control.universeIds();
    const base = Date.now() - steps * 10_000;
    const bodies: string[][] = [];
    const batchIds: string[][][] = [];
    const timestamps = new Set<string>();
    for (let step = 0; step < steps; step++) {
      const records = simulator.control.marketsSnapshot(ids, 'usd', base + step * 10_000, changeTimeframes);
      const stepBodies: string[] = [];
      const stepIds: string[][] = [];
      for (let i = 0; i < records.length; i += BATCH_SIZE) {
        const batch = records.slice(i, i + BATCH_SIZE);
        stepBodies.push(toJson(batch));
        stepIds.push(batch.map((r) => String(r.id)));
      }
      for (const r of records) timestamps.add(String(r.last_updated));
      bodies.push(stepBodies);
      batchIds.push(stepIds);
    }
    return { bodies, ids: batchIds, rows: coins * steps, timestamps: [...timestamps] };
  } finally {
    await simulator.close();
  }
}

/** One batch of the fixture as the ledger knows it (a step is one run). */
export interface BatchRef {
  readonly runId: string;
  readonly batchNo: number;
  readonly vsCurrency: string;
  readonly step: number;
}

/** The parsed records of a batch, for the loaders that start from parsed items (parsing included in their time). */
export function batchItems(fixture: SnapshotFixture, ref: BatchRef): Record<string, unknown>[] {
  return JSON.parse(fixture.bodies[ref.step]![ref.batchNo]!) as Record<string, unknown>[];
}

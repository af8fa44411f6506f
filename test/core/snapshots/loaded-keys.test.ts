import pg from 'pg';
import { decodeParkedBatch } from '../../../core/handoff/parked-batch.js';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { loadBatch } from '../../../core/snapshots/load-snapshots.js';
import { encodeForParking } from '../../../core/snapshots/loaded-keys.js';
import { ensurePartitionsFor } from '../../../core/snapshots/partitions.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { loadSnapshotBatch } from '../../helpers/snapshot-loads.js';

describe(encodeForParking.name, () => {
  let db: TestDatabase;
  let simulator: SimulatorHandle;
  let loaders: pg.Pool;
  /** Names of the prepared statements the loaders ran, in order. */
  let statements: string[] = [];
  let runs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ coins: 20 });
    loaders = new pg.Pool({ connectionString: db.url, max: 2 });
    loaders.on('error', () => undefined);
    loaders.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const name = (args[0] as { name?: string } | undefined)?.name;
        if (name) statements.push(name);
        return query(...args);
      };
    });
  });
  afterAll(async () => {
    await loaders.end();
    await simulator.close();
    await db.drop();
  });

  const snapshot = (ids: string[], lastUpdated: string) =>
    simulator.control.marketsSnapshot(ids).map((i) => ({ ...i, last_updated: lastUpdated }));
  async function planned(items: Record<string, unknown>[]) {
    const runId = `mkeys${runs++}`;
    await recordPlannedRun(db.pool, {
      runId,
      trigger: 'manual',
      scheduledAt: null,
      batches: [items.map((i) => String(i.id))],
    });
    return { runId, batchNo: 0, vsCurrency: 'usd' };
  }
  /** The batch as the fetch worker parks it, decoded as the load worker reads it. */
  async function checked(items: Record<string, unknown>[]) {
    const context = await planned(items);
    const { parked, checkFailed } = await encodeForParking(
      loaders,
      context,
      items,
      items.map((i) => JSON.stringify(i)),
    );
    expect(checkFailed).toBeUndefined();
    return decodeParkedBatch(parked, context);
  }
  const loadedRuns = async (ids: string[]) =>
    (
      await db.pool.query(
        'select coin_id, run_id from raw.coin_market_snapshots where coin_id = any($1) order by coin_id, last_updated',
        [ids],
      )
    ).rows.map((r) => [r.coin_id, r.run_id]);

  it('leaves out keys already loaded and repeats within the batch, however their timestamp is spelled', async () => {
    const at = '2026-11-27T12:00:00.000Z';
    const earlier = await planned(snapshot(['bitcoin'], at));
    await loadSnapshotBatch(loaders, { ...earlier, items: snapshot(['bitcoin'], at) });
    const [ethereum] = snapshot(['ethereum'], at);
    const batch = await checked([
      ...snapshot(['bitcoin'], at),
      ethereum!,
      { ...ethereum!, last_updated: '2026-11-27T12:00:00+00:00' },
      ...snapshot(['bitcoin'], '2026-11-27T12:00:01.000Z'),
    ]);
    expect(batch).toMatchObject({
      coinIds: ['ethereum', 'bitcoin'],
      lastUpdated: [at, '2026-11-27T12:00:01.000Z'],
      duplicatesLeftOut: 2,
      recordsReceived: 4,
    });
  });

  it('is loaded without a key lookup, its duplicates counted from the check', async () => {
    const at = '2026-11-27T12:10:00.000Z';
    const earlier = await planned(snapshot(['tether'], at));
    await loadSnapshotBatch(loaders, { ...earlier, items: snapshot(['tether'], at) });
    const batch = await checked(snapshot(['tether', 'solana', 'cardano'], at));
    await ensurePartitionsFor(loaders, batch.lastUpdated);
    statements = [];
    expect(await loadBatch(loaders, batch)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
      rowsDuplicate: 1,
      staleKeyCheck: false,
    });
    expect(statements).toEqual(['snapshot-checked-load-start', 'ledger-batch-loaded']);
    const ledger = (
      await db.pool.query(
        'select rows_loaded, rows_duplicate, records_received from pipeline.pipeline_batches where run_id = $1',
        [batch.context.runId],
      )
    ).rows[0];
    expect(ledger).toEqual({ rows_loaded: 2, rows_duplicate: 1, records_received: 3 });
  });

  it('falls back to a key lookup when one of its keys was loaded after the check, and loads the rest', async () => {
    const at = '2026-11-27T12:20:00.000Z';
    const batch = await checked(snapshot(['ripple', 'dogecoin', 'polkadot'], at));
    expect(batch.duplicatesLeftOut).toBe(0);
    // Another tick with the same data loads dogecoin between this batch's fetch and its load.
    const other = await planned(snapshot(['dogecoin'], at));
    await loadSnapshotBatch(loaders, { ...other, items: snapshot(['dogecoin'], at) });
    statements = [];
    expect(await loadBatch(loaders, batch)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
      rowsDuplicate: 1,
      staleKeyCheck: true,
    });
    // The checked start, its COPY refused by the primary key, then one attempt with the lookup.
    expect(statements).toEqual(['snapshot-checked-load-start', 'snapshot-load-start', 'ledger-batch-loaded']);
    expect(await loadedRuns(['ripple', 'dogecoin', 'polkadot'])).toEqual([
      ['dogecoin', other.runId],
      ['polkadot', batch.context.runId],
      ['ripple', batch.context.runId],
    ]);
  });

  it('parks the batch unchecked, saying why, when the check fails, and its load then looks the keys up', async () => {
    const at = '2026-11-27T12:30:00.000Z';
    const items = snapshot(['tron', 'uniswap'], at);
    const context = await planned(items);
    const earlier = await planned(snapshot(['tron'], at));
    await loadSnapshotBatch(loaders, { ...earlier, items: snapshot(['tron'], at) });
    // Nothing listens on port 1: the check cannot connect.
    const unreachable = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2_000,
    });
    unreachable.on('error', () => undefined);
    try {
      const { parked, checkFailed } = await encodeForParking(unreachable, context, items);
      expect(checkFailed?.message).toMatch(/^checking which keys of batch 0 of run mkeys\d+ are loaded: /);
      const batch = decodeParkedBatch(parked, context);
      expect(batch.coinIds).toEqual(['tron', 'uniswap']);
      expect(batch.duplicatesLeftOut).toBeUndefined();
      statements = [];
      expect(await loadBatch(loaders, batch)).toMatchObject({
        status: 'loaded',
        rowsLoaded: 1,
        rowsDuplicate: 1,
        staleKeyCheck: false,
      });
      expect(statements).toEqual(['snapshot-load-start', 'ledger-batch-loaded']);
    } finally {
      await unreachable.end();
    }
  });
});

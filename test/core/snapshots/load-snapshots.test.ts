import pg from 'pg';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { loadBatch } from '../../../core/snapshots/load-snapshots.js';
import { ensurePartitionsFor } from '../../../core/snapshots/partitions.js';
import { parkedBatchOf } from '../../helpers/parked-batches.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';
import { createTestDatabase, sessionsWaitingOnLocks, type TestDatabase } from '../../helpers/database.js';
import { loadSnapshotBatch } from '../../helpers/snapshot-loads.js';
import { waitFor } from '../../helpers/wait-for.js';

describe(loadBatch.name, () => {
  let db: TestDatabase;
  let simulator: SimulatorHandle;
  let loaders: pg.Pool;
  let runs = 0;

  /** A planned run of one batch, and that batch's input. */
  async function batchOf(items: Record<string, unknown>[], texts?: string[]) {
    const runId = `mload${runs++}`;
    await recordPlannedRun(db.pool, {
      runId,
      trigger: 'manual',
      scheduledAt: null,
      batches: [items.map((i) => String(i.id))],
    });
    return { runId, batchNo: 0, vsCurrency: 'usd', items, texts };
  }
  const snapshot = (ids: string[], lastUpdated: string) =>
    simulator.control.marketsSnapshot(ids).map((i) => ({ ...i, last_updated: lastUpdated }));
  /** The rows of these coins, each with the record it replays (raw.replay_record), parsed. */
  const rows = async (ids: string[]) =>
    (
      await db.pool.query<{ coin_id: string; run_id: string; record: string }>(
        'select coin_id, run_id, raw.replay_record(s)::text as record from raw.coin_market_snapshots s where coin_id = any($1) order by coin_id, run_id',
        [ids],
      )
    ).rows.map((r) => ({ ...r, record: JSON.parse(r.record) as unknown }));

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ coins: 20 });
    loaders = new pg.Pool({ connectionString: db.url, max: 4 });
    loaders.on('error', () => undefined);
  });
  afterAll(async () => {
    await loaders.end();
    await simulator.close();
    await db.drop();
  });

  it('replays the record it was given, as sent', async () => {
    const [item] = snapshot(['bitcoin'], '2026-11-27T08:00:00.000Z');
    const text = ` { "id": "bitcoin", ${JSON.stringify(item).slice(1, -1).replace('"id":"bitcoin",', '')} } `.trim();
    const input = await batchOf([JSON.parse(text) as Record<string, unknown>], [text]);
    await loadSnapshotBatch(loaders, input);
    expect(await rows(['bitcoin'])).toEqual([{ coin_id: 'bitcoin', run_id: input.runId, record: JSON.parse(text) }]);
  });

  it('counts keys another batch already loaded as duplicates and loads the rest', async () => {
    const first = await batchOf(snapshot(['ethereum'], '2026-11-27T09:00:00.000Z'));
    const second = await batchOf(snapshot(['ethereum', 'tether'], '2026-11-27T09:00:00.000Z'));
    expect(await loadSnapshotBatch(loaders, first)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
      rowsDuplicate: 0,
    });
    expect(await loadSnapshotBatch(loaders, second)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
      rowsDuplicate: 1,
    });
    expect((await rows(['ethereum', 'tether'])).map((r) => [r.coin_id, r.run_id])).toEqual([
      ['ethereum', first.runId],
      ['tether', second.runId],
    ]);
  });

  it('leaves out an already-loaded row between rows with multi-byte text, replaying the others exactly', async () => {
    const at = '2026-11-27T09:15:00.000Z';
    const named = (id: string, name: string) => ({ ...snapshot([id], at)[0]!, name });
    const first = await batchOf([named('usd-coin', 'USD Coin ₮')]);
    await loadSnapshotBatch(loaders, first);
    const items = [named('binancecoin', 'BNB 🟡'), named('usd-coin', 'USD Coin ₮'), named('ripple', 'XRP Ξ—“quoted”')];
    const texts = items.map((i) => JSON.stringify(i));
    const second = await batchOf(items, texts);
    expect(await loadSnapshotBatch(loaders, second)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 2,
      rowsDuplicate: 1,
    });
    expect(await rows(['binancecoin', 'usd-coin', 'ripple'])).toEqual([
      { coin_id: 'binancecoin', run_id: second.runId, record: JSON.parse(texts[0]!) },
      { coin_id: 'ripple', run_id: second.runId, record: JSON.parse(texts[2]!) },
      { coin_id: 'usd-coin', run_id: first.runId, record: first.items[0] },
    ]);
  });

  it('loads a coin sent twice in one batch once, however its timestamp is spelled', async () => {
    const [a] = snapshot(['solana'], '2026-11-27T09:30:00.000Z');
    const input = await batchOf([a!, { ...a!, last_updated: '2026-11-27T09:30:00+00:00' }]);
    expect(await loadSnapshotBatch(loaders, input)).toMatchObject({
      status: 'loaded',
      rowsLoaded: 1,
      rowsDuplicate: 1,
    });
    const batch = (
      await db.pool.query('select rows_loaded, rows_duplicate from pipeline.pipeline_batches where run_id = $1', [
        input.runId,
      ])
    ).rows[0];
    expect(batch).toEqual({ rows_loaded: 1, rows_duplicate: 1 });
  });

  it('loads each key once when two batches with the same keys race past the key check', async () => {
    const first = await batchOf(snapshot(['cardano'], '2026-11-27T10:00:00.000Z'));
    const second = await batchOf(snapshot(['cardano', 'dogecoin'], '2026-11-27T10:00:00.000Z'));
    // The first load has copied its row; the second then copies the same key and waits on it.
    const outcomes = await whileFirstHeldAtLedger(
      first.runId,
      () => loadSnapshotBatch(loaders, first),
      () => loadSnapshotBatch(loaders, second),
      "second load waiting on the first one's row",
    );
    // The second load hit a unique violation when the first committed, and its retry left the key out.
    expect(outcomes).toEqual([
      expect.objectContaining({ status: 'loaded', rowsLoaded: 1, rowsDuplicate: 0 }),
      expect.objectContaining({ status: 'loaded', rowsLoaded: 1, rowsDuplicate: 1 }),
    ]);
    expect((await rows(['cardano', 'dogecoin'])).map((r) => [r.coin_id, r.run_id])).toEqual([
      ['cardano', first.runId],
      ['dogecoin', second.runId],
    ]);
  });

  it('finds a batch loaded by a concurrent delivery of it once that commits, without a retry', async () => {
    const input = await batchOf(snapshot(['polkadot', 'chainlink'], '2026-11-27T10:30:00.000Z'));
    const attempts = new pg.Pool({ connectionString: db.url, max: 2 });
    // Partitions checked beforehand (once per pool), so each checkout below is one load transaction.
    await ensurePartitionsFor(attempts, ['2026-11-27T10:30:00.000Z']);
    let transactions = 0;
    attempts.on('acquire', () => transactions++);
    try {
      // The first delivery holds the batch's ledger row while it is held at the run's.
      const outcomes = await whileFirstHeldAtLedger(
        input.runId,
        () => loadSnapshotBatch(loaders, input),
        () => loadSnapshotBatch(attempts, input),
        "second delivery waiting on the batch's ledger row",
      );
      expect(outcomes).toEqual([
        expect.objectContaining({ status: 'loaded', rowsLoaded: 2 }),
        expect.objectContaining({ status: 'already-loaded', rowsLoaded: 0 }),
      ]);
      // Its first statement waited for the row, then read the status the first delivery committed:
      // no COPY of keys already there, so no unique violation and no second transaction.
      expect(transactions).toBe(1);
    } finally {
      await attempts.end();
    }
    expect((await rows(['polkadot', 'chainlink'])).map((r) => r.run_id)).toEqual([input.runId, input.runId]);
    const run = (
      await db.pool.query('select batches_loaded, rows_loaded, status from pipeline.pipeline_runs where run_id = $1', [
        input.runId,
      ])
    ).rows[0];
    expect(run).toEqual({ batches_loaded: 1, rows_loaded: 2, status: 'loaded' });
  });

  /**
   * Starts `first` and holds it just before its commit (its ledger update waits for the run row,
   * locked here), then starts `second` and waits until it waits too (`secondWaits` names on what);
   * then lets the run row go and returns both outcomes.
   */
  async function whileFirstHeldAtLedger<T>(
    runId: string,
    first: () => Promise<T>,
    second: () => Promise<T>,
    secondWaits: string,
  ): Promise<T[]> {
    const holder = await db.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from pipeline.pipeline_runs where run_id = $1 for update', [runId]);
      const firstLoad = first();
      await waitFor('first load waiting on the ledger', async () => (await sessionsWaitingOnLocks(db)) >= 1);
      const secondLoad = second();
      await waitFor(secondWaits, async () => (await sessionsWaitingOnLocks(db)) >= 2);
      await holder.query('commit');
      return await Promise.all([firstLoad, secondLoad]);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      holder.release();
    }
  }

  it('records a row older than the retention window once as stale, without loading it or creating its partition', async () => {
    // Retention 30 days at 2026-12-07: the window starts at 2026-11-07T00:00Z.
    const options = { retentionDays: 30, now: new Date('2026-12-07T12:00:00Z') };
    const items = () => [
      ...snapshot(['near'], '2026-11-07T00:00:00.000Z'),
      ...snapshot(['uniswap'], '2026-11-06T23:59:59.999Z'),
    ];
    const parked = async () => {
      const input = await batchOf(items());
      return parkedBatchOf({ runId: input.runId, batchNo: 0, vsCurrency: 'usd' }, input.items);
    };
    const first = await parked();
    expect(await loadBatch(loaders, first, options)).toMatchObject({
      rowsLoaded: 1,
      rowsDuplicate: 0,
      rowsStale: 1,
      staleRecorded: 1,
    });
    expect(await loadBatch(loaders, await parked(), options)).toMatchObject({
      rowsLoaded: 0,
      rowsDuplicate: 1,
      rowsStale: 1,
      staleRecorded: 0,
    });
    expect((await rows(['near', 'uniswap'])).map((r) => r.coin_id)).toEqual(['near']);
    const recorded = await db.pool.query(
      'select coin_id, last_updated, run_id from pipeline.stale_observations where coin_id = $1',
      ['uniswap'],
    );
    expect(recorded.rows).toEqual([
      { coin_id: 'uniswap', last_updated: new Date('2026-11-06T23:59:59.999Z'), run_id: first.context.runId },
    ]);
    const partition = await db.pool.query("select to_regclass('raw.coin_market_snapshots_p20261106') as p");
    expect(partition.rows[0].p).toBeNull();
    const ledger = await db.pool.query('select rows_loaded, rows_stale from pipeline.pipeline_runs where run_id = $1', [
      first.context.runId,
    ]);
    expect(ledger.rows[0]).toEqual({ rows_loaded: 1, rows_stale: 1 });
  });
});

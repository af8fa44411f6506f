import { Redis } from 'ioredis';
import pg from 'pg';
import { jsonArrayItems } from '../../../core/coingecko/json-array-items.js';
import { encodeParkedBatch, parkBatch, ParkedBatchGoneError } from '../../../core/handoff/parked-batch.js';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { validateSnapshotBatch } from '../../../core/snapshots/validated-batch.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';
import { loadParkedBatch } from '../../../workers/load/handle-load.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { TEST_REDIS_URL } from '../../helpers/env.js';
import { deletePrefix, testPrefix } from '../../helpers/redis.js';

/** A load job reads the batch its fetch parked (core/handoff/parked-batch.ts), and nothing else. */
describe(loadParkedBatch.name, () => {
  let db: TestDatabase;
  let simulator: SimulatorHandle;
  let pool: pg.Pool;
  let redis: Redis;
  const prefix = testPrefix();
  let runs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ coins: 30 });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    redis = new Redis(TEST_REDIS_URL);
    await db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 1)');
  });
  afterAll(async () => {
    redis.disconnect();
    await pool.end();
    await simulator.close();
    await deletePrefix(prefix);
    await db.drop();
  });

  /** A planned one-batch run and a /coins/markets body for it, with one invalid record. */
  async function batch() {
    const runId = `mparked${runs++}`;
    const items = simulator.control.marketsSnapshot(simulator.control.universeIds().slice(0, 20)) as Record<
      string,
      unknown
    >[];
    items[7] = { ...items[7], current_price: 'twelve' };
    await recordPlannedRun(db.pool, {
      runId,
      trigger: 'manual',
      scheduledAt: null,
      batches: [items.map((i) => String(i.id))],
    });
    return {
      data: { runId, batchNo: 0, vsCurrency: 'usd' },
      body: JSON.stringify(items),
      key: `${prefix}:payload:${runId}`,
    };
  }
  const stored = async (runId: string) =>
    (
      await db.pool.query(
        'select coin_id, current_price, name, raw.replay_record(s)::text as record from raw.coin_market_snapshots s where run_id = $1 order by coin_id',
        [runId],
      )
    ).rows.map((r: { coin_id: string; name: string; record: string }) => ({
      ...r,
      record: JSON.parse(r.record) as unknown,
    }));
  const quarantined = async (runId: string) =>
    (
      await db.pool.query(
        'select record_index, coin_id, reason, record::text as record from pipeline.quarantined_records where run_id = $1',
        [runId],
      )
    ).rows;

  it('loads a parked batch, its records as sent, and drops it', async () => {
    const mine = await batch();
    const texts = jsonArrayItems(mine.body);
    await parkBatch(
      redis,
      mine.key,
      encodeParkedBatch(mine.data, validateSnapshotBatch(mine.data, JSON.parse(mine.body) as unknown[], texts)),
      60_000,
    );
    expect(await loadParkedBatch({ pool, redis }, mine.key, mine.data)).toEqual({
      status: 'loaded',
      rowsLoaded: 19,
      rowsDuplicate: 0,
      recordsRejected: 1,
      rowsStale: 0,
      staleRecorded: 0,
      unknownFields: {},
      staleKeyCheck: false,
    });
    const sources = JSON.parse(mine.body) as { id: string; name: string }[];
    const byCoin = (a: { coin_id: string }, b: { coin_id: string }) => (a.coin_id < b.coin_id ? -1 : 1);
    const rows = (await stored(mine.data.runId))
      .map(({ coin_id, name, record }) => ({ coin_id, name, record }))
      .sort(byCoin);
    // Every valid record replays as CoinGecko sent it.
    expect(rows).toEqual(
      texts
        .flatMap((text, i) =>
          i === 7 ? [] : [{ coin_id: sources[i]!.id, name: sources[i]!.name, record: JSON.parse(text) as unknown }],
        )
        .sort(byCoin),
    );
    expect(await quarantined(mine.data.runId)).toEqual([
      // The rejected record whole, as sent.
      { record_index: 7, coin_id: sources[7]!.id, reason: expect.stringContaining('current_price'), record: texts[7] },
    ]);
    expect(await redis.exists(mine.key)).toBe(0);
  });

  it('refuses a batch parked for another batch as unusable, loading nothing', async () => {
    const mine = await batch();
    const other = { ...mine.data, batchNo: 1 };
    await parkBatch(
      redis,
      mine.key,
      encodeParkedBatch(other, validateSnapshotBatch(other, JSON.parse(mine.body) as unknown[])),
      60_000,
    );
    const error = await loadParkedBatch({ pool, redis }, mine.key, mine.data).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParkedBatchGoneError);
    expect((error as Error).message).toBe(
      `parked batch 0 of run ${mine.data.runId} is corrupt (it was parked for {"runId":"${mine.data.runId}","batchNo":1,"vsCurrency":"usd"}); the batch must be fetched again`,
    );
    expect(await stored(mine.data.runId)).toEqual([]);
    const ledger = await db.pool.query('select status from pipeline.pipeline_batches where run_id = $1', [
      mine.data.runId,
    ]);
    expect(ledger.rows).toEqual([{ status: 'planned' }]);
  });

  it('refuses a plain response body (what fetch workers parked before batches were prepared) as unusable, loading nothing', async () => {
    const mine = await batch();
    await parkBatch(redis, mine.key, Buffer.from(mine.body), 60_000);
    await expect(loadParkedBatch({ pool, redis }, mine.key, mine.data)).rejects.toThrow(
      new ParkedBatchGoneError(
        `parked batch 0 of run ${mine.data.runId} is corrupt (unknown format); the batch must be fetched again`,
      ),
    );
    expect(await stored(mine.data.runId)).toEqual([]);
  });

  it('finds a batch loaded and nothing parked any more (a redelivered job): nothing to do', async () => {
    const mine = await batch();
    await parkBatch(
      redis,
      mine.key,
      encodeParkedBatch(mine.data, validateSnapshotBatch(mine.data, JSON.parse(mine.body) as unknown[])),
      60_000,
    );
    expect(await loadParkedBatch({ pool, redis }, mine.key, mine.data)).toMatchObject({ status: 'loaded' });
    expect(await loadParkedBatch({ pool, redis }, mine.key, mine.data)).toEqual({
      status: 'already-loaded',
      rowsLoaded: 0,
      rowsDuplicate: 0,
      recordsRejected: 0,
      rowsStale: 0,
      staleRecorded: 0,
      unknownFields: {},
      staleKeyCheck: false,
    });
  });

  it('finds nothing parked for a batch not loaded yet gone: the batch must be fetched again', async () => {
    const mine = await batch();
    await expect(loadParkedBatch({ pool, redis }, mine.key, mine.data)).rejects.toThrow(
      new ParkedBatchGoneError(
        `parked batch 0 of run ${mine.data.runId} is gone (${mine.key} expired or was lost with Redis); the batch must be fetched again`,
      ),
    );
  });
});

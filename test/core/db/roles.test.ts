import pg from 'pg';
import { recordPlannedRun, setTransformStatus } from '../../../core/pipeline/run-ledger.js';
import { startSimulator, type SimulatorHandle } from '../../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { loadSnapshotBatch } from '../../helpers/snapshot-loads.js';

/** A pool whose sessions run as `role` (the test connects as the superuser and switches role at connect). */
function poolAs(db: TestDatabase, role: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max: 2, options: `-c role=${role}` });
  pool.on('error', () => undefined);
  return pool;
}

const denied = /permission denied/;

describe('least-privilege database roles', () => {
  let db: TestDatabase;
  let simulator: SimulatorHandle;
  let loader: pg.Pool;
  let transformer: pg.Pool;
  let reader: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ coins: 50 });
    [loader, transformer, reader] = ['cdp_loader', 'cdp_transformer', 'cdp_reader'].map((role) => poolAs(db, role)) as [
      pg.Pool,
      pg.Pool,
      pg.Pool,
    ];
  });
  afterAll(async () => {
    await Promise.all([loader, transformer, reader].map((p) => p.end()));
    await simulator.close();
    await db.drop();
  });

  describe('cdp_loader', () => {
    it('plans a run and loads a batch end to end: partitions, COPY, quarantine, ledger', async () => {
      await recordPlannedRun(loader, {
        runId: 'mroles',
        trigger: 'manual',
        scheduledAt: null,
        batches: [['bitcoin', 'ethereum', 'tether']],
      });
      const items = simulator.control.marketsSnapshot(['bitcoin', 'ethereum', 'tether']);
      items[2] = { ...items[2], current_price: 'n/a' };
      const outcome = await loadSnapshotBatch(loader, { runId: 'mroles', batchNo: 0, vsCurrency: 'usd', items });
      expect(outcome).toMatchObject({ status: 'loaded', rowsLoaded: 2, recordsRejected: 1 });
    });

    it('cannot drop, alter or read what is not its own', async () => {
      await expect(loader.query('drop table raw.coins')).rejects.toThrow(/must be owner/);
      await expect(loader.query('delete from raw.coin_market_snapshots')).rejects.toThrow(denied);
      await expect(loader.query('select * from pipeline.transform_runs')).rejects.toThrow(denied);
      await expect(loader.query('select raw.drop_snapshot_partition(current_date, 1000)')).rejects.toThrow(denied);
      await expect(loader.query('create schema sneaky')).rejects.toThrow(denied);
    });
  });

  describe('cdp_transformer', () => {
    it('reads raw, builds in the marts schema and records transform results', async () => {
      expect((await transformer.query('select count(*)::int as n from raw.coin_market_snapshots')).rows[0].n).toBe(2);
      await transformer.query(
        'create table analytics_marts.roles_probe as select coin_id, current_price from raw.coin_market_snapshots',
      );
      await transformer.query("insert into pipeline.transform_runs (run_id, runner) values ('mroles', 'bundled')");
      await setTransformStatus(transformer, 'mroles', 'succeeded');
    });

    it('can drop a raw partition only through the retention function', async () => {
      await loader.query("select raw.ensure_snapshot_partitions('2020-01-01', '2020-01-01')");
      await expect(transformer.query('drop table raw.coin_market_snapshots_p20200101')).rejects.toThrow(
        /must be owner/,
      );
      expect(
        (await transformer.query("select raw.drop_snapshot_partition('2020-01-01', 1000) as dropped")).rows[0].dropped,
      ).toBe('dropped');
    });

    it("cannot write raw data or the load ledger's plan", async () => {
      await expect(
        transformer.query("insert into raw.coins (coin_id, symbol, name) values ('x', 'x', 'x')"),
      ).rejects.toThrow(denied);
      await expect(transformer.query('delete from pipeline.pipeline_runs')).rejects.toThrow(denied);
      await expect(transformer.query('truncate raw.coin_market_snapshots')).rejects.toThrow(denied);
    });
  });

  describe('cdp_reader', () => {
    it('reads the marts the transformer built and the pipeline tables', async () => {
      expect((await reader.query('select count(*)::int as n from analytics_marts.roles_probe')).rows[0].n).toBe(2);
      expect((await reader.query("select status from pipeline.pipeline_runs where run_id = 'mroles'")).rows).toEqual([
        { status: 'loaded' },
      ]);
    });

    it('cannot read raw data or change anything', async () => {
      await expect(reader.query('select * from raw.coin_market_snapshots')).rejects.toThrow(denied);
      await expect(reader.query('select * from raw.coins')).rejects.toThrow(denied);
      await expect(reader.query("update pipeline.pipeline_runs set status = 'failed'")).rejects.toThrow(denied);
      await expect(reader.query('delete from analytics_marts.roles_probe')).rejects.toThrow(denied);
      await expect(reader.query('create table analytics_marts.mine (x int)')).rejects.toThrow(denied);
    });
  });
});

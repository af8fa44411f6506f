import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The load barrier (core/snapshots/load-barrier.ts). A snapshot's loaded_at becomes the start of the
 * statement that wrote it instead of the start of its transaction: a load transaction begins, waits
 * for the barrier's lock, then COPYs, so only the COPY's own time is known to come after a barrier
 * that transaction waited for. Each transform run records the barrier it passed; the next one reads
 * the snapshots loaded after it.
 */
export class LoadBarrier1764748800000 implements MigrationInterface {
  name = 'LoadBarrier1764748800000';

  async up(q: QueryRunner): Promise<void> {
    // On the partitioned table this sets the default of every partition too; new ones copy it.
    await q.query('alter table raw.coin_market_snapshots alter column loaded_at set default statement_timestamp()');
    await q.query('alter table pipeline.transform_runs add column loads_barrier_at timestamptz');
    // Every run starts by reading the newest barrier of a successful run: one index probe, however many runs are kept.
    await q.query(
      "create index transform_runs_loads_barrier_idx on pipeline.transform_runs (loads_barrier_at) where status = 'success'",
    );
    await q.query(`comment on column pipeline.transform_runs.loads_barrier_at is
      'Every snapshot loaded at or before this instant had committed when the run started reading; null when the run could not pass the load barrier in time'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index pipeline.transform_runs_loads_barrier_idx');
    await q.query('alter table pipeline.transform_runs drop column loads_barrier_at');
    await q.query('alter table raw.coin_market_snapshots alter column loaded_at set default now()');
  }
}

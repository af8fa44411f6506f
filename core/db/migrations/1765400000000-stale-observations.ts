import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Observations older than the raw retention window (TRANSFORM_RAW_RETENTION_DAYS). CoinGecko keeps
 * listing inactive coins with a last_updated years old; loading them created a daily partition that the
 * next retention dropped again, and the next tick loaded the same rows again. Such an observation is
 * now recorded here once per (coin, currency, last_updated) instead: it never reaches
 * raw.coin_market_snapshots and creates no partition. Only the key is kept: raw keeps nothing from
 * before the window either. The ledger counts them per batch and run (rows_stale).
 */
export class StaleObservations1765400000000 implements MigrationInterface {
  name = 'StaleObservations1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table pipeline.stale_observations (
        coin_id      text not null,
        vs_currency  text not null,
        last_updated timestamptz not null,
        run_id       text not null,
        batch_no     integer not null,
        recorded_at  timestamptz not null default now(),
        primary key (coin_id, vs_currency, last_updated)
      );
      create index stale_observations_recorded_at_idx on pipeline.stale_observations (recorded_at desc);
      comment on table pipeline.stale_observations is
        'Snapshots CoinGecko sent whose last_updated was already older than the raw retention window: recorded once (the tick that first saw it), never loaded into raw';

      alter table pipeline.pipeline_batches add column rows_stale integer;
      alter table pipeline.pipeline_runs add column rows_stale bigint not null default 0;
      comment on column pipeline.pipeline_runs.rows_stale is
        'Valid rows not loaded because their last_updated was older than the raw retention window (see pipeline.stale_observations)';

      grant select, insert on pipeline.stale_observations to cdp_loader;
      grant select on pipeline.stale_observations to cdp_transformer, cdp_reader;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table pipeline.pipeline_runs drop column rows_stale;
      alter table pipeline.pipeline_batches drop column rows_stale;
      drop table pipeline.stale_observations;
    `);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * raw: what CoinGecko sent (typed columns + the record itself, so any batch can be replayed).
 * pipeline: the run ledger and the quarantine of rejected records.
 */
export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create schema if not exists raw;
      create schema if not exists pipeline;

      create table raw.coins (
        coin_id          text primary key,
        symbol           text not null,
        name             text not null,
        market_cap_rank  integer,
        rank_observed_at timestamptz,
        is_active        boolean not null default true,
        first_seen_at    timestamptz not null default now(),
        last_seen_at     timestamptz not null default now(),
        updated_at       timestamptz not null default now()
      );
      create index coins_rank_idx on raw.coins (market_cap_rank) where is_active;

      -- One row per coin and CoinGecko last_updated: a re-fetched, unchanged coin adds nothing.
      create table raw.coin_market_snapshots (
        coin_id                                 text not null,
        vs_currency                             text not null,
        last_updated                            timestamptz not null,
        run_id                                  text not null,
        batch_no                                integer not null,
        loaded_at                               timestamptz not null default now(),
        symbol                                  text not null,
        name                                    text not null,
        current_price                           double precision,
        market_cap                              double precision,
        market_cap_rank                         integer,
        fully_diluted_valuation                 double precision,
        total_volume                            double precision,
        high_24h                                double precision,
        low_24h                                 double precision,
        price_change_24h                        double precision,
        price_change_percentage_24h             double precision,
        market_cap_change_24h                   double precision,
        market_cap_change_percentage_24h        double precision,
        circulating_supply                      double precision,
        total_supply                            double precision,
        max_supply                              double precision,
        ath                                     double precision,
        ath_change_percentage                   double precision,
        ath_date                                timestamptz,
        atl                                     double precision,
        atl_change_percentage                   double precision,
        atl_date                                timestamptz,
        roi_times                               double precision,
        roi_currency                            text,
        roi_percentage                          double precision,
        price_change_percentage_1h_in_currency  double precision,
        price_change_percentage_24h_in_currency double precision,
        price_change_percentage_7d_in_currency  double precision,
        record                                  json not null,
        primary key (coin_id, vs_currency, last_updated)
      ) partition by range (last_updated);
      create index coin_market_snapshots_loaded_at_brin on raw.coin_market_snapshots using brin (loaded_at);

      -- Daily partitions, created ahead by the pipeline and on demand by loads (idempotent, serialized).
      create function raw.ensure_snapshot_partitions(p_from date, p_to date) returns integer
      language plpgsql as $fn$
      declare
        d date := p_from;
        created integer := 0;
        part text;
      begin
        perform pg_advisory_xact_lock(hashtext('raw.coin_market_snapshots partitions'));
        while d <= p_to loop
          part := 'coin_market_snapshots_p' || to_char(d, 'YYYYMMDD');
          if to_regclass('raw.' || part) is null then
            execute format(
              'create table raw.%I partition of raw.coin_market_snapshots for values from (%L) to (%L)',
              part, d::timestamptz at time zone 'UTC', (d + 1)::timestamptz at time zone 'UTC');
            created := created + 1;
          end if;
          d := d + 1;
        end loop;
        return created;
      end
      $fn$;

      create table pipeline.pipeline_runs (
        run_id                text primary key,
        trigger               text not null check (trigger in ('schedule', 'manual', 'backfill')),
        scheduled_at          timestamptz,
        started_at            timestamptz not null default now(),
        coins_planned         integer not null default 0,
        batches_planned       integer not null default 0,
        batches_fetched       integer not null default 0,
        batches_loaded        integer not null default 0,
        batches_failed        integer not null default 0,
        rows_loaded           bigint  not null default 0,
        rows_duplicate        bigint  not null default 0,
        records_rejected      integer not null default 0,
        finished_at           timestamptz,
        status                text not null default 'running'
                              check (status in ('running', 'loaded', 'partial', 'failed', 'lost')),
        transform_job_id      text,
        transform_status      text not null default 'pending'
                              check (transform_status in ('pending', 'queued', 'running', 'succeeded', 'failed', 'coalesced')),
        transform_finished_at timestamptz,
        error                 text
      );
      create index pipeline_runs_started_idx on pipeline.pipeline_runs (started_at desc);

      create table pipeline.pipeline_batches (
        run_id           text not null references pipeline.pipeline_runs on delete cascade,
        batch_no         integer not null,
        coin_ids         text[] not null,
        status           text not null default 'planned' check (status in ('planned', 'fetched', 'loaded', 'failed')),
        fetched_at       timestamptz,
        loaded_at        timestamptz,
        failed_at        timestamptz,
        records_received integer,
        rows_loaded      integer,
        rows_duplicate   integer,
        records_rejected integer,
        error            text,
        primary key (run_id, batch_no)
      );

      create table pipeline.quarantined_records (
        quarantine_id  bigserial primary key,
        run_id         text not null,
        batch_no       integer not null,
        record_index   integer not null,
        coin_id        text,
        reason         text not null,
        record         json not null,
        quarantined_at timestamptz not null default now(),
        unique (run_id, batch_no, record_index)
      );
      create index quarantined_records_at_idx on pipeline.quarantined_records (quarantined_at desc);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      drop table if exists pipeline.quarantined_records;
      drop table if exists pipeline.pipeline_batches;
      drop table if exists pipeline.pipeline_runs;
      drop function if exists raw.ensure_snapshot_partitions(date, date);
      drop table if exists raw.coin_market_snapshots;
      drop table if exists raw.coins;
    `);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History from CoinGecko's /coins/{id}/market_chart/range (backfills and gap repairs).
 *
 * - raw.coin_history_points: one row per coin, currency and point time. Points are not snapshots:
 *   they carry price, market cap and volume only, at CoinGecko's automatic granularity (5-minutely,
 *   hourly or daily), so they live in a table of their own instead of beside the snapshots with
 *   nulls in 20 columns. The key makes every backfill idempotent: a point stored once is never
 *   stored again, whichever run fetches it. Not partitioned and not subject to the snapshots'
 *   retention: an hourly point is ~90 bytes, so a year of hourly history for 1,000 coins is under
 *   1 GB, and the candles built from it must survive a full refresh.
 * - pipeline.history_runs: one row per backfill or repair (a command, the first start, a gap).
 * - pipeline.history_items: one row per coin and time range of a run, one CoinGecko call each. Its
 *   status is what a resumed backfill reads: done items are never fetched again.
 */
export class History1765000000000 implements MigrationInterface {
  name = 'History1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table raw.coin_history_points (
        coin_id       text not null,
        vs_currency   text not null,
        observed_at   timestamptz not null,
        price         double precision not null,
        market_cap    double precision,
        total_volume  double precision,
        -- Seconds between CoinGecko's points in the response this point came from: 300, 3600 or 86400.
        resolution_s  integer not null check (resolution_s > 0),
        history_run_id text not null,
        loaded_at     timestamptz not null default now(),
        primary key (coin_id, vs_currency, observed_at)
      );
      create index coin_history_points_loaded_at_idx on raw.coin_history_points (loaded_at);
      comment on table raw.coin_history_points is
        'Points of CoinGecko /coins/{id}/market_chart/range, one per coin, currency and time; stored once (backfills and gap repairs)';

      create table pipeline.history_runs (
        history_run_id text primary key,
        kind           text not null check (kind in ('backfill', 'initial', 'repair')),
        vs_currency    text not null,
        range_from     timestamptz not null,
        range_to       timestamptz not null,
        coins          integer not null,
        items          integer not null,
        status         text not null default 'running' check (status in ('running', 'done', 'partial', 'failed')),
        requested      jsonb not null default '{}',
        created_at     timestamptz not null default now(),
        finished_at    timestamptz,
        check (range_from < range_to)
      );
      -- The first-start backfill happens once per database, whatever number of schedulers race to it.
      create unique index history_runs_one_initial on pipeline.history_runs (kind) where kind = 'initial';

      create table pipeline.history_items (
        history_run_id  text not null references pipeline.history_runs on delete cascade,
        item_no         integer not null,
        coin_id         text not null,
        range_from      timestamptz not null,
        range_to        timestamptz not null,
        status          text not null default 'pending' check (status in ('pending', 'done', 'failed')),
        calls           integer not null default 0,
        http_status     integer,
        points_received integer,
        rows_inserted   integer,
        points_rejected integer,
        error           text,
        finished_at     timestamptz,
        primary key (history_run_id, item_no)
      );
      -- What a new backfill reads to skip the ranges already fetched.
      create index history_items_done_by_coin on pipeline.history_items (coin_id, range_from, range_to)
        where status = 'done';

      grant select, insert on raw.coin_history_points to cdp_loader;
      grant select on raw.coin_history_points to cdp_transformer;
      grant select, insert, update on pipeline.history_runs, pipeline.history_items to cdp_loader;
      grant select on pipeline.history_runs, pipeline.history_items to cdp_transformer, cdp_reader;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      drop table pipeline.history_items;
      drop table pipeline.history_runs;
      drop table raw.coin_history_points;
    `);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * pipeline.coverage_gaps: holes in the pipeline's coverage (no tick loaded for longer than
 * GAP_THRESHOLD: scheduler down, Redis wiped, a CoinGecko outage), each recorded once by the
 * scheduler's watchdog and repaired by a history run of kind 'repair' (core/history/coverage-gaps.ts).
 * A gap is bounded by two ticks that loaded, so its start identifies it: the unique key on gap_from
 * is what makes detection idempotent across watchdog passes and scheduler replicas.
 */
export class CoverageGaps1765200000000 implements MigrationInterface {
  name = 'CoverageGaps1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table pipeline.coverage_gaps (
        gap_id         bigserial primary key,
        gap_from       timestamptz not null unique,
        gap_to         timestamptz not null,
        -- Coins the repair fetches (the first GAP_REPAIR_MAX_COINS of the tick after the gap) and tracked then.
        coins          integer not null,
        coins_tracked  integer not null,
        detected_at    timestamptz not null default now(),
        status         text not null default 'open'
                       check (status in ('open', 'repairing', 'repaired', 'unrepairable')),
        history_run_id text references pipeline.history_runs,
        points_stored  integer,
        repaired_at    timestamptz,
        note           text,
        check (gap_from < gap_to)
      );
      create index coverage_gaps_open on pipeline.coverage_gaps (detected_at) where status in ('open', 'repairing');
      grant select, insert, update on pipeline.coverage_gaps to cdp_loader;
      grant usage on sequence pipeline.coverage_gaps_gap_id_seq to cdp_loader;
      grant select on pipeline.coverage_gaps to cdp_transformer, cdp_reader;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table pipeline.coverage_gaps;`);
  }
}

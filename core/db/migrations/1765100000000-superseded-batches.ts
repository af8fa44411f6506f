import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Overload: when the tracked coins need more CoinGecko calls per tick than the rate limit allows, a
 * newer tick supersedes the batches of older ticks that were not fetched yet (producers/tick/
 * supersede-batches.ts), so the fetch queue stays bounded instead of fetching minutes late.
 * - pipeline_batches: status 'superseded', with the run that superseded it and when;
 * - pipeline_runs: batches_superseded counts them, and a run that ends with some superseded and none
 *   failed has status 'superseded' (its counters say how many); calls_needed / calls_allowed record
 *   the tick's call budget as planned (CoinGecko calls the tick needs, universe refresh share
 *   included, and calls the rate limit allows in one tick interval; null: unlimited).
 */
export class SupersededBatches1765100000000 implements MigrationInterface {
  name = 'SupersededBatches1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table pipeline.pipeline_batches drop constraint pipeline_batches_status_check;
      alter table pipeline.pipeline_batches add constraint pipeline_batches_status_check
        check (status in ('planned', 'fetched', 'loaded', 'failed', 'superseded'));
      alter table pipeline.pipeline_batches add column superseded_by text;
      alter table pipeline.pipeline_batches add column superseded_at timestamptz;

      alter table pipeline.pipeline_runs drop constraint pipeline_runs_status_check;
      alter table pipeline.pipeline_runs add constraint pipeline_runs_status_check
        check (status in ('running', 'loaded', 'partial', 'failed', 'lost', 'superseded'));
      alter table pipeline.pipeline_runs add column batches_superseded integer not null default 0;
      alter table pipeline.pipeline_runs add column calls_needed double precision;
      alter table pipeline.pipeline_runs add column calls_allowed integer;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      update pipeline.pipeline_runs set status = 'partial' where status = 'superseded';
      alter table pipeline.pipeline_runs drop column calls_allowed;
      alter table pipeline.pipeline_runs drop column calls_needed;
      alter table pipeline.pipeline_runs drop column batches_superseded;
      alter table pipeline.pipeline_runs drop constraint pipeline_runs_status_check;
      alter table pipeline.pipeline_runs add constraint pipeline_runs_status_check
        check (status in ('running', 'loaded', 'partial', 'failed', 'lost'));

      update pipeline.pipeline_batches set status = 'failed', error = coalesce(error, 'superseded') where status = 'superseded';
      alter table pipeline.pipeline_batches drop column superseded_at;
      alter table pipeline.pipeline_batches drop column superseded_by;
      alter table pipeline.pipeline_batches drop constraint pipeline_batches_status_check;
      alter table pipeline.pipeline_batches add constraint pipeline_batches_status_check
        check (status in ('planned', 'fetched', 'loaded', 'failed'));
    `);
  }
}

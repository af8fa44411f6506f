import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Results of the dbt project's runs, whichever runner executed it: one row per run, one per node
 * (model, test, source freshness check). The dashboard and Grafana read these.
 */
export class TransformResults1764403200000 implements MigrationInterface {
  name = 'TransformResults1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table pipeline.transform_runs (
        transform_run_id bigserial primary key,
        run_id           text not null,
        job_id           text,
        -- Ticks whose rows this run saw: its own and those whose transform was waiting when it started.
        -- A covered tick's own transform job then completes as 'coalesced' instead of running again.
        covers_run_ids   text[] not null default '{}',
        runner           text not null check (runner in ('dbt', 'bundled')),
        status           text not null default 'running' check (status in ('running', 'success', 'error')),
        started_at       timestamptz not null default now(),
        finished_at      timestamptz,
        duration_ms      integer,
        models_built     integer not null default 0,
        models_failed    integer not null default 0,
        tests_passed     integer not null default 0,
        tests_warned     integer not null default 0,
        tests_failed     integer not null default 0,
        nodes_skipped    integer not null default 0,
        detail           text,
        error            text
      );
      create index transform_runs_started_idx on pipeline.transform_runs (started_at desc);
      create index transform_runs_run_idx on pipeline.transform_runs (run_id);

      create table pipeline.transform_node_results (
        transform_run_id  bigint not null references pipeline.transform_runs on delete cascade,
        unique_id         text not null,
        resource_type     text not null,
        name              text not null,
        status            text not null
                          check (status in ('success', 'error', 'skipped', 'pass', 'fail', 'warn', 'runtime error')),
        started_at        timestamptz,
        completed_at      timestamptz,
        execution_time_ms integer not null default 0,
        rows_affected     bigint,
        failures          bigint,
        message           text,
        primary key (transform_run_id, unique_id)
      );
      create index transform_node_results_problems_idx on pipeline.transform_node_results (status)
        where status in ('error', 'fail', 'warn', 'runtime error');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      drop table if exists pipeline.transform_node_results;
      drop table if exists pipeline.transform_runs;
    `);
  }
}

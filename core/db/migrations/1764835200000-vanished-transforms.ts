import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Final transform statuses for runs whose transform job vanished from Redis (restarted without
 * persistence, or flushed): such a run stayed 'queued' for ever, although later runs may have
 * transformed its rows. The scheduler's watchdog now resolves it to
 * - 'covered': a successful transform run read past every snapshot the run loaded (its load barrier
 *   is at or after the run's last loaded_at, or it listed the run in covers_run_ids);
 * - 'lost': no successful run has read its rows (yet);
 * and says why in transform_note.
 *
 * The watchdog runs as cdp_loader, which may not read pipeline.transform_runs: it asks
 * pipeline.transform_covers_run(), a security definer function answering only that question.
 */
export class VanishedTransforms1764835200000 implements MigrationInterface {
  name = 'VanishedTransforms1764835200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table pipeline.pipeline_runs drop constraint pipeline_runs_transform_status_check;
      alter table pipeline.pipeline_runs add constraint pipeline_runs_transform_status_check
        check (transform_status in ('pending', 'queued', 'running', 'succeeded', 'failed', 'coalesced', 'covered', 'lost'));
      alter table pipeline.pipeline_runs add column transform_note text;
      comment on column pipeline.pipeline_runs.transform_note is
        'Why the transform status is what it is when no transform job set it (covered or lost after its job vanished from Redis)';

      create function pipeline.transform_covers_run(p_run_id text) returns boolean
      language sql stable security definer set search_path = pg_catalog, pipeline, raw as $fn$
        select exists (
          select 1
            from pipeline.pipeline_runs r
            join pipeline.transform_runs t on t.status = 'success'
           where r.run_id = p_run_id
             and (p_run_id = any(t.covers_run_ids)
                  or t.loads_barrier_at >= coalesce(
                       -- the run's rows were loaded between its planning and its end (loaded_at btree)
                       (select max(s.loaded_at) from raw.coin_market_snapshots s
                         where s.run_id = p_run_id and s.loaded_at >= r.started_at
                           and s.loaded_at <= coalesce(r.finished_at, now())),
                       r.started_at)))
      $fn$;
      revoke all on function pipeline.transform_covers_run(text) from public;
      grant execute on function pipeline.transform_covers_run(text) to cdp_loader, cdp_transformer;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      drop function pipeline.transform_covers_run(text);
      update pipeline.pipeline_runs set transform_status = 'queued' where transform_status in ('covered', 'lost');
      alter table pipeline.pipeline_runs drop column transform_note;
      alter table pipeline.pipeline_runs drop constraint pipeline_runs_transform_status_check;
      alter table pipeline.pipeline_runs add constraint pipeline_runs_transform_status_check
        check (transform_status in ('pending', 'queued', 'running', 'succeeded', 'failed', 'coalesced'));
    `);
  }
}

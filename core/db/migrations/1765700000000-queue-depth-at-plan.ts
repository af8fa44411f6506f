import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Queue depth in the run ledger, for the Pipeline page's operations view (issue 17). When the
 * scheduler plans a tick it reads how many fetch and load jobs are still waiting in BullMQ (the
 * backlog that tick finds, before its own jobs are added) and stores both on the run row. Recorded
 * where it is known rather than derived from pipeline_batches later: the queues also hold retries in
 * backoff and jobs of history runs, which the ledger does not see, and a derivation per tick is a
 * range self-join over every batch in the window. Null for runs planned before this migration (or
 * when Redis did not answer in time): the charts show a gap there.
 */
export class QueueDepthAtPlan1765700000000 implements MigrationInterface {
  name = 'QueueDepthAtPlan1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table pipeline.pipeline_runs add column fetch_jobs_waiting integer;
      alter table pipeline.pipeline_runs add column load_jobs_waiting integer;
      comment on column pipeline.pipeline_runs.fetch_jobs_waiting is
        'Fetch jobs waiting, prioritized or delayed in BullMQ when this tick was planned, before its own were added; null: not recorded';
      comment on column pipeline.pipeline_runs.load_jobs_waiting is
        'Load jobs waiting, prioritized or delayed in BullMQ (fetched, not yet loading) when this tick was planned; null: not recorded';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table pipeline.pipeline_runs drop column load_jobs_waiting;
      alter table pipeline.pipeline_runs drop column fetch_jobs_waiting;
    `);
  }
}

import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** 'superseded': some batches were superseded by a newer tick before they were fetched, none failed (SupersededBatches1765100000000). */
export type RunStatus = 'running' | 'loaded' | 'partial' | 'failed' | 'lost' | 'superseded';
/** 'covered' and 'lost': the run's transform job vanished from Redis; whether a later run read its rows (VanishedTransforms1764835200000). */
export type TransformStatus =
  'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'coalesced' | 'covered' | 'lost';

const bigintAsNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/**
 * One tick: what was planned, what arrived, what was loaded or rejected, and how it ended.
 *
 * Mirrors pipeline.pipeline_runs as migrations InitialSchema1764230400000 and
 * VanishedTransforms1764835200000 and SupersededBatches1765100000000 leave it, under the names Postgres gave its constraints (TypeORM matches checks by name; the expressions are the migration's).
 */
@Entity({ schema: 'pipeline', name: 'pipeline_runs' })
@Check('pipeline_runs_trigger_check', `trigger in ('schedule', 'manual', 'backfill')`)
@Check('pipeline_runs_status_check', `status in ('running', 'loaded', 'partial', 'failed', 'lost', 'superseded')`)
@Check(
  'pipeline_runs_transform_status_check',
  `transform_status in ('pending', 'queued', 'running', 'succeeded', 'failed', 'coalesced', 'covered', 'lost')`,
)
// The migration's index is on (started_at desc); TypeORM has no sort order for a Postgres index
// column, so this states the column only. A btree reads either way, so the order is not a difference.
@Index('pipeline_runs_started_idx', ['startedAt'])
export class PipelineRun {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pipeline_runs_pkey' }) runId!: string;
  @Column({ type: 'text' }) trigger!: 'schedule' | 'manual' | 'backfill';
  @Column({ name: 'scheduled_at', type: 'timestamptz', nullable: true }) scheduledAt!: Date | null;
  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' }) startedAt!: Date;
  @Column({ name: 'coins_planned', type: 'integer', default: 0 }) coinsPlanned!: number;
  @Column({ name: 'batches_planned', type: 'integer', default: 0 }) batchesPlanned!: number;
  @Column({ name: 'batches_fetched', type: 'integer', default: 0 }) batchesFetched!: number;
  @Column({ name: 'batches_loaded', type: 'integer', default: 0 }) batchesLoaded!: number;
  @Column({ name: 'batches_failed', type: 'integer', default: 0 }) batchesFailed!: number;
  @Column({ name: 'rows_loaded', type: 'bigint', default: 0, transformer: bigintAsNumber }) rowsLoaded!: number;
  @Column({ name: 'rows_duplicate', type: 'bigint', default: 0, transformer: bigintAsNumber }) rowsDuplicate!: number;
  @Column({
    name: 'rows_stale',
    type: 'bigint',
    default: 0,
    transformer: bigintAsNumber,
    comment:
      'Valid rows not loaded because their last_updated was older than the raw retention window (see pipeline.stale_observations)',
  })
  rowsStale!: number;
  @Column({ name: 'records_rejected', type: 'integer', default: 0 }) recordsRejected!: number;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'text', default: 'running' }) status!: RunStatus;
  @Column({ name: 'transform_job_id', type: 'text', nullable: true }) transformJobId!: string | null;
  @Column({ name: 'transform_status', type: 'text', default: 'pending' }) transformStatus!: TransformStatus;
  @Column({ name: 'transform_finished_at', type: 'timestamptz', nullable: true }) transformFinishedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @Column({
    name: 'transform_note',
    type: 'text',
    nullable: true,
    comment:
      'Why the transform status is what it is when no transform job set it (covered or lost after its job vanished from Redis)',
  })
  transformNote!: string | null;
  @Column({ name: 'batches_superseded', type: 'integer', default: 0 }) batchesSuperseded!: number;
  /** CoinGecko calls the tick needs (its batches plus the universe refresh's share); see producers/tick/call-budget.ts. */
  @Column({ name: 'calls_needed', type: 'double precision', nullable: true }) callsNeeded!: number | null;
  /** Calls the rate limit allows in one tick interval; null when unlimited. */
  @Column({ name: 'calls_allowed', type: 'integer', nullable: true }) callsAllowed!: number | null;
  /** BullMQ backlog when the tick was planned (QueueDepthAtPlan1765700000000); null: not recorded. */
  @Column({
    name: 'fetch_jobs_waiting',
    type: 'integer',
    nullable: true,
    comment:
      'Fetch jobs waiting, prioritized or delayed in BullMQ when this tick was planned, before its own were added; null: not recorded',
  })
  fetchJobsWaiting!: number | null;
  @Column({
    name: 'load_jobs_waiting',
    type: 'integer',
    nullable: true,
    comment:
      'Load jobs waiting, prioritized or delayed in BullMQ (fetched, not yet loading) when this tick was planned; null: not recorded',
  })
  loadJobsWaiting!: number | null;
}

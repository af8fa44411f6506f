import { Column, Entity, PrimaryColumn } from 'typeorm';

export type RunStatus = 'running' | 'loaded' | 'partial' | 'failed' | 'lost';
export type TransformStatus = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'coalesced';

const bigintAsNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/** One tick: what was planned, what arrived, what was loaded or rejected, and how it ended. */
@Entity({ schema: 'pipeline', name: 'pipeline_runs' })
export class PipelineRun {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ type: 'text' }) trigger!: 'schedule' | 'manual' | 'backfill';
  @Column({ name: 'scheduled_at', type: 'timestamptz', nullable: true }) scheduledAt!: Date | null;
  @Column({ name: 'started_at', type: 'timestamptz' }) startedAt!: Date;
  @Column({ name: 'coins_planned', type: 'integer' }) coinsPlanned!: number;
  @Column({ name: 'batches_planned', type: 'integer' }) batchesPlanned!: number;
  @Column({ name: 'batches_fetched', type: 'integer' }) batchesFetched!: number;
  @Column({ name: 'batches_loaded', type: 'integer' }) batchesLoaded!: number;
  @Column({ name: 'batches_failed', type: 'integer' }) batchesFailed!: number;
  @Column({ name: 'rows_loaded', type: 'bigint', transformer: bigintAsNumber }) rowsLoaded!: number;
  @Column({ name: 'rows_duplicate', type: 'bigint', transformer: bigintAsNumber }) rowsDuplicate!: number;
  @Column({ name: 'records_rejected', type: 'integer' }) recordsRejected!: number;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'text' }) status!: RunStatus;
  @Column({ name: 'transform_job_id', type: 'text', nullable: true }) transformJobId!: string | null;
  @Column({ name: 'transform_status', type: 'text' }) transformStatus!: TransformStatus;
  @Column({ name: 'transform_finished_at', type: 'timestamptz', nullable: true }) transformFinishedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
}

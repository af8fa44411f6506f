import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { PipelineRun } from './pipeline-run.js';

/** 'superseded': a newer tick was planned before this batch was fetched (SupersededBatches1765100000000). */
export type BatchStatus = 'planned' | 'fetched' | 'loaded' | 'failed' | 'superseded';

const primaryKeyConstraintName = 'pipeline_batches_pkey';

/**
 * One id batch of a tick: one /coins/markets call, one COPY load.
 *
 * Mirrors pipeline.pipeline_batches as migrations InitialSchema1764230400000 and SupersededBatches1765100000000 leave it, under the
 * names Postgres gave its constraints. The reference to the run is a bare @ForeignKey, not a
 * relation: nothing loads a batch's run through TypeORM, and the entity's shape stays as it was.
 */
@Entity({ schema: 'pipeline', name: 'pipeline_batches' })
@Check('pipeline_batches_status_check', `status in ('planned', 'fetched', 'loaded', 'failed', 'superseded')`)
export class PipelineBatch {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName })
  @ForeignKey(() => PipelineRun, { name: 'pipeline_batches_run_id_fkey', onDelete: 'CASCADE' })
  runId!: string;
  @PrimaryColumn({ name: 'batch_no', type: 'integer', primaryKeyConstraintName }) batchNo!: number;
  @Column({ name: 'coin_ids', type: 'text', array: true }) coinIds!: string[];
  @Column({ type: 'text', default: 'planned' }) status!: BatchStatus;
  @Column({ name: 'fetched_at', type: 'timestamptz', nullable: true }) fetchedAt!: Date | null;
  @Column({ name: 'loaded_at', type: 'timestamptz', nullable: true }) loadedAt!: Date | null;
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true }) failedAt!: Date | null;
  @Column({ name: 'records_received', type: 'integer', nullable: true }) recordsReceived!: number | null;
  @Column({ name: 'rows_loaded', type: 'integer', nullable: true }) rowsLoaded!: number | null;
  @Column({ name: 'rows_duplicate', type: 'integer', nullable: true }) rowsDuplicate!: number | null;
  @Column({ name: 'rows_stale', type: 'integer', nullable: true }) rowsStale!: number | null;
  @Column({ name: 'records_rejected', type: 'integer', nullable: true }) recordsRejected!: number | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  /** The run whose planning superseded this batch. */
  @Column({ name: 'superseded_by', type: 'text', nullable: true }) supersededBy!: string | null;
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true }) supersededAt!: Date | null;
}

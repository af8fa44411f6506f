import { Column, Entity, PrimaryColumn } from 'typeorm';

export type BatchStatus = 'planned' | 'fetched' | 'loaded' | 'failed';

/** One id batch of a tick: one /coins/markets call, one COPY load. */
@Entity({ schema: 'pipeline', name: 'pipeline_batches' })
export class PipelineBatch {
  @PrimaryColumn({ name: 'run_id', type: 'text' }) runId!: string;
  @PrimaryColumn({ name: 'batch_no', type: 'integer' }) batchNo!: number;
  @Column({ name: 'coin_ids', type: 'text', array: true }) coinIds!: string[];
  @Column({ type: 'text' }) status!: BatchStatus;
  @Column({ name: 'fetched_at', type: 'timestamptz', nullable: true }) fetchedAt!: Date | null;
  @Column({ name: 'loaded_at', type: 'timestamptz', nullable: true }) loadedAt!: Date | null;
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true }) failedAt!: Date | null;
  @Column({ name: 'records_received', type: 'integer', nullable: true }) recordsReceived!: number | null;
  @Column({ name: 'rows_loaded', type: 'integer', nullable: true }) rowsLoaded!: number | null;
  @Column({ name: 'rows_duplicate', type: 'integer', nullable: true }) rowsDuplicate!: number | null;
  @Column({ name: 'records_rejected', type: 'integer', nullable: true }) recordsRejected!: number | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
}

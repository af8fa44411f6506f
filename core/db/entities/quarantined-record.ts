import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A record CoinGecko sent that failed validation, kept with the reason so nothing is lost. */
@Entity({ schema: 'pipeline', name: 'quarantined_records' })
export class QuarantinedRecord {
  @PrimaryGeneratedColumn({ name: 'quarantine_id', type: 'bigint' }) quarantineId!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'batch_no', type: 'integer' }) batchNo!: number;
  @Column({ name: 'record_index', type: 'integer' }) recordIndex!: number;
  @Column({ name: 'coin_id', type: 'text', nullable: true }) coinId!: string | null;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'json' }) record!: unknown;
  @Column({ name: 'quarantined_at', type: 'timestamptz' }) quarantinedAt!: Date;
}

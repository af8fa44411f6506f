import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A record CoinGecko sent that failed validation, kept with the reason so nothing is lost.
 *
 * Mirrors pipeline.quarantined_records as migration InitialSchema1764230400000 creates it (a bigserial
 * key, one row per record of a batch), under the names Postgres gave its constraints.
 */
@Entity({ schema: 'pipeline', name: 'quarantined_records' })
@Unique('quarantined_records_run_id_batch_no_record_index_key', ['runId', 'batchNo', 'recordIndex'])
// The migration's index is on (quarantined_at desc); TypeORM has no sort order for a Postgres index
// column, so this states the column only. A btree reads either way, so the order is not a difference.
@Index('quarantined_records_at_idx', ['quarantinedAt'])
export class QuarantinedRecord {
  @PrimaryGeneratedColumn({
    name: 'quarantine_id',
    type: 'bigint',
    primaryKeyConstraintName: 'quarantined_records_pkey',
  })
  quarantineId!: string;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'batch_no', type: 'integer' }) batchNo!: number;
  @Column({ name: 'record_index', type: 'integer' }) recordIndex!: number;
  @Column({ name: 'coin_id', type: 'text', nullable: true }) coinId!: string | null;
  @Column({ type: 'text' }) reason!: string;
  @Column({ type: 'json' }) record!: unknown;
  @Column({ name: 'quarantined_at', type: 'timestamptz', default: () => 'now()' }) quarantinedAt!: Date;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

const num = (name: string) => Column({ name, type: 'double precision', nullable: true });

const primaryKeyConstraintName = 'coin_market_snapshots_pkey';

/**
 * One /coins/markets record as loaded. Writes go through COPY (core/snapshots/load-snapshots.ts);
 * the entity exists for reads and for the TypeORM baseline in the load benchmark.
 *
 * Mirrors raw.coin_market_snapshots as the migrations create it (InitialSchema1764230400000,
 * SnapshotsLoadedAtIndex1764576000000, LoadBarrier1764748800000, ReplayableRawRecords1765500000000), column for column as
 * core/snapshots/raw-columns.ts declares it for the load (test/core/snapshots/raw-columns.test.ts
 * compares this entity's metadata with that declaration). What TypeORM cannot state:
 * - The table is PARTITION BY RANGE (last_updated), one partition a day, made by the
 *   raw.ensure_snapshot_partitions() function (dropped by raw.drop_snapshot_partition()). TypeORM has
 *   no notion of partitioning: it compares this parent table like a plain one (which is why the
 *   primary key includes the partition key, as Postgres requires) and never sees the partitions.
 *   Only the migrations may create this table: `synchronize` would make a plain, unpartitioned one.
 * - The functions and the grants on the table are migration-only too; TypeORM does not look at them.
 */
@Entity({ schema: 'raw', name: 'coin_market_snapshots' })
// Both indexes are on the parent, so Postgres builds them on every partition, present and future.
@Index('coin_market_snapshots_loaded_at_brin', ['loadedAt'], { type: 'brin' })
@Index('coin_market_snapshots_loaded_at_idx', ['loadedAt'])
export class MarketSnapshot {
  @PrimaryColumn({ name: 'coin_id', type: 'text', primaryKeyConstraintName }) coinId!: string;
  @PrimaryColumn({ name: 'vs_currency', type: 'text', primaryKeyConstraintName }) vsCurrency!: string;
  @PrimaryColumn({ name: 'last_updated', type: 'timestamptz', primaryKeyConstraintName }) lastUpdated!: Date;
  @Column({ name: 'run_id', type: 'text' }) runId!: string;
  @Column({ name: 'batch_no', type: 'integer' }) batchNo!: number;
  @Column({ name: 'loaded_at', type: 'timestamptz', default: () => 'statement_timestamp()' }) loadedAt!: Date;
  @Column({ type: 'text' }) symbol!: string;
  @Column({ type: 'text' }) name!: string;
  @num('current_price') currentPrice!: number | null;
  @num('market_cap') marketCap!: number | null;
  @Column({ name: 'market_cap_rank', type: 'integer', nullable: true }) marketCapRank!: number | null;
  @num('fully_diluted_valuation') fullyDilutedValuation!: number | null;
  @num('total_volume') totalVolume!: number | null;
  @num('high_24h') high24h!: number | null;
  @num('low_24h') low24h!: number | null;
  @num('price_change_24h') priceChange24h!: number | null;
  @num('price_change_percentage_24h') priceChangePercentage24h!: number | null;
  @num('market_cap_change_24h') marketCapChange24h!: number | null;
  @num('market_cap_change_percentage_24h') marketCapChangePercentage24h!: number | null;
  @num('circulating_supply') circulatingSupply!: number | null;
  @num('total_supply') totalSupply!: number | null;
  @num('max_supply') maxSupply!: number | null;
  @num('ath') ath!: number | null;
  @num('ath_change_percentage') athChangePercentage!: number | null;
  @Column({ name: 'ath_date', type: 'timestamptz', nullable: true }) athDate!: Date | null;
  @num('atl') atl!: number | null;
  @num('atl_change_percentage') atlChangePercentage!: number | null;
  @Column({ name: 'atl_date', type: 'timestamptz', nullable: true }) atlDate!: Date | null;
  @num('roi_times') roiTimes!: number | null;
  @Column({ name: 'roi_currency', type: 'text', nullable: true }) roiCurrency!: string | null;
  @num('roi_percentage') roiPercentage!: number | null;
  @num('price_change_percentage_1h_in_currency') priceChangePercentage1h!: number | null;
  @num('price_change_percentage_24h_in_currency') priceChangePercentage24hInCurrency!: number | null;
  @num('price_change_percentage_7d_in_currency') priceChangePercentage7d!: number | null;
  /** The whole record: rows loaded before ReplayableRawRecords1765500000000 only (read raw.replay_record(row)). */
  @Column({ type: 'json', nullable: true }) record!: unknown;
  @Column({ name: 'record_extra', type: 'json', nullable: true }) recordExtra!: unknown;
  @Column({ name: 'record_untyped', type: 'integer', nullable: true }) recordUntyped!: number | null;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A CoinGecko coin as listed by /coins/list, with its last known market-cap rank.
 *
 * Mirrors raw.coins as migration InitialSchema1764230400000 creates it (the migrations are the
 * schema; test/core/db/entities-match-migrations.test.ts keeps the two in step). Constraint and
 * index names are the ones Postgres gave them, so TypeORM's schema comparison finds them as they are.
 */
@Entity({ schema: 'raw', name: 'coins' })
@Index('coins_rank_idx', ['marketCapRank'], { where: 'is_active' })
export class Coin {
  @PrimaryColumn({ name: 'coin_id', type: 'text', primaryKeyConstraintName: 'coins_pkey' }) coinId!: string;
  @Column({ type: 'text' }) symbol!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'market_cap_rank', type: 'integer', nullable: true }) marketCapRank!: number | null;
  @Column({ name: 'rank_observed_at', type: 'timestamptz', nullable: true }) rankObservedAt!: Date | null;
  @Column({ name: 'is_active', type: 'boolean', default: true }) isActive!: boolean;
  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' }) firstSeenAt!: Date;
  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' }) lastSeenAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A CoinGecko coin as listed by /coins/list, with its last known market-cap rank. */
@Entity({ schema: 'raw', name: 'coins' })
export class Coin {
  @PrimaryColumn({ name: 'coin_id', type: 'text' }) coinId!: string;
  @Column({ type: 'text' }) symbol!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ name: 'market_cap_rank', type: 'integer', nullable: true }) marketCapRank!: number | null;
  @Column({ name: 'rank_observed_at', type: 'timestamptz', nullable: true }) rankObservedAt!: Date | null;
  @Column({ name: 'is_active', type: 'boolean' }) isActive!: boolean;
  @Column({ name: 'first_seen_at', type: 'timestamptz' }) firstSeenAt!: Date;
  @Column({ name: 'last_seen_at', type: 'timestamptz' }) lastSeenAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

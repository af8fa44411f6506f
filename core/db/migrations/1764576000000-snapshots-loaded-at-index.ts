import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A btree on raw.coin_market_snapshots (loaded_at), on every partition (present and future). The
 * transformations pick up "rows loaded since the last run" and source freshness reads max(loaded_at):
 * the BRIN cannot answer max() and the planner rarely picks it for a watermark it only learns at run
 * time, so each run scanned every partition. loaded_at grows with inserts, so the btree stays cheap
 * to maintain (right-most page inserts).
 */
export class SnapshotsLoadedAtIndex1764576000000 implements MigrationInterface {
  name = 'SnapshotsLoadedAtIndex1764576000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'create index if not exists coin_market_snapshots_loaded_at_idx on raw.coin_market_snapshots (loaded_at)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('drop index if exists raw.coin_market_snapshots_loaded_at_idx');
  }
}

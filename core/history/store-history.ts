import type pg from 'pg';
import { copyBuffers, copyTextLine } from '../db/copy-text.js';
import { inTransaction } from '../db/pool.js';
import { enterLoad } from '../snapshots/load-barrier.js';
import { markHistoryItemDone } from './history-ledger.js';
import type { ParsedHistory } from './history-points.js';

export interface HistoryItemKey {
  readonly historyRunId: string;
  readonly itemNo: number;
  readonly coinId: string;
  readonly vsCurrency: string;
}

export interface StoredHistory {
  readonly rowsInserted: number;
  readonly pointsRejected: number;
}

const STAGE_COLUMNS = ['observed_at', 'price', 'market_cap', 'total_volume'] as const;

/**
 * Stores one call's points and its rejected points, and marks its item done, in one transaction: a
 * redelivered job (a worker killed after the commit) stores nothing twice and counts nothing twice.
 * The points are COPYed into a temporary table and inserted from there, skipping every key already
 * stored (by this run, an earlier backfill or another repair): re-running any backfill adds nothing.
 */
export async function storeHistory(
  pool: pg.Pool,
  key: HistoryItemKey,
  parsed: ParsedHistory,
  httpStatus: number,
): Promise<StoredHistory> {
  return inTransaction(pool, async (client) => {
    let rowsInserted = 0;
    if (parsed.points.length > 0) {
      // The transform run's load barrier must wait for these points too, and they are stamped after
      // entering it (statement_timestamp(), not the transaction's now()), or a run could pass the
      // barrier while they are uncommitted and the next run would read only points loaded after it.
      await enterLoad(client);
      await client.query(
        `create temporary table history_stage (observed_at timestamptz, price float8, market_cap float8, total_volume float8)
           on commit drop`,
      );
      const lines = parsed.points.map((p) =>
        copyTextLine([new Date(p.observedAtMs).toISOString(), p.price, p.marketCap, p.totalVolume]),
      );
      await copyBuffers(client, 'history_stage', STAGE_COLUMNS, [Buffer.from(lines.join(''))]);
      const inserted = await client.query(
        `insert into raw.coin_history_points
           (coin_id, vs_currency, observed_at, price, market_cap, total_volume, resolution_s, history_run_id, loaded_at)
         select $1, $2, observed_at, price, market_cap, total_volume, $3, $4, statement_timestamp() from history_stage
         on conflict do nothing`,
        [key.coinId, key.vsCurrency, parsed.resolutionS, key.historyRunId],
      );
      rowsInserted = inserted.rowCount ?? 0;
    }
    if (parsed.rejected.length > 0) {
      await client.query(
        `insert into pipeline.quarantined_records (run_id, batch_no, record_index, coin_id, reason, record)
         select $1, $2, record_index, $3, reason, record::json
           from unnest($4::integer[], $5::text[], $6::text[]) as t(record_index, reason, record)
         on conflict do nothing`,
        [
          key.historyRunId,
          key.itemNo,
          key.coinId,
          parsed.rejected.map((r) => r.index),
          parsed.rejected.map((r) => r.reason),
          parsed.rejected.map((r) => JSON.stringify(r.record)),
        ],
      );
    }
    await markHistoryItemDone(client, key.historyRunId, key.itemNo, {
      httpStatus,
      pointsReceived: parsed.points.length + parsed.rejected.length,
      rowsInserted,
      pointsRejected: parsed.rejected.length,
    });
    return { rowsInserted, pointsRejected: parsed.rejected.length };
  });
}

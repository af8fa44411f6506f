import type pg from 'pg';
import { validateMarketRecord, type MarketRecord } from '../../core/coingecko/market-record.js';
import { copyLines, copyTextLine } from '../../core/db/copy-text.js';
import { lockBatch, markBatchLoaded } from '../../core/pipeline/run-ledger.js';
import type { LoadBatchInput } from '../../core/snapshots/load-snapshots.js';
import { SNAPSHOT_COLUMNS, snapshotRow } from '../../core/snapshots/snapshot-row.js';

/**
 * A step-by-step copy of core/snapshots/load-snapshots.ts (same statements, same order, one
 * transaction per batch) with a stopwatch on each phase, and switches for the candidate fixes, so
 * each can be measured without touching the hot path.
 */
export interface LoadVariant {
  /** How rows reach the raw table: today's temp-table COPY + insert-select, COPY straight into it, or one insert from a JSON parameter. */
  readonly write: 'staged-copy' | 'direct-copy' | 'json-recordset';
  /** `set local synchronous_commit = off`: the commit does not wait for the WAL flush. */
  readonly asyncCommit?: boolean;
}

export type Phases = Map<string, number>;

const COLUMNS = SNAPSHOT_COLUMNS.join(', ');
const STAGING = 'snapshot_staging_bench';

export async function loadBatchPhased(pool: pg.Pool, input: LoadBatchInput, variant: LoadVariant, phases: Phases): Promise<void> {
  let mark = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    phases.set(phase, (phases.get(phase) ?? 0) + now - mark);
    mark = now;
  };
  const valid: MarketRecord[] = [];
  for (const item of input.items) {
    const result = validateMarketRecord(item);
    if (result.ok) valid.push(result.record);
  }
  lap('validate records');
  const client = await pool.connect();
  try {
    lap('pool checkout');
    await client.query('begin');
    if (variant.asyncCommit) await client.query('set local synchronous_commit = off');
    await lockBatch(client, input.runId, input.batchNo);
    lap('begin + lock ledger row');
    const context = { runId: input.runId, batchNo: input.batchNo, vsCurrency: input.vsCurrency };
    if (variant.write === 'json-recordset') {
      const rows = JSON.stringify(valid.map((r) => {
        const row = snapshotRow(r, context);
        return Object.fromEntries(SNAPSHOT_COLUMNS.map((c, i) => [c, row[i]]));
      }));
      lap('encode rows');
      await client.query(
        `insert into raw.coin_market_snapshots (${COLUMNS}) select ${COLUMNS} from json_populate_recordset(null::raw.coin_market_snapshots, $1::json) on conflict do nothing`,
        [rows],
      );
      lap('insert from json');
    } else {
      const lines = valid.map((r) => copyTextLine(snapshotRow(r, context)));
      lap('encode rows');
      if (variant.write === 'staged-copy') {
        await client.query(`create temp table if not exists ${STAGING} (like raw.coin_market_snapshots including defaults) on commit delete rows`);
        lap('create temp table if not exists');
        await copyLines(client, STAGING, SNAPSHOT_COLUMNS, lines);
        lap('COPY into temp table');
        await client.query(`insert into raw.coin_market_snapshots (${COLUMNS}) select ${COLUMNS} from ${STAGING} on conflict do nothing`);
        lap('insert-select into raw');
      } else {
        await copyLines(client, 'raw.coin_market_snapshots', SNAPSHOT_COLUMNS, lines);
        lap('COPY into raw');
      }
    }
    await markBatchLoaded(client, input.runId, input.batchNo, { recordsReceived: input.items.length, rowsLoaded: valid.length, rowsDuplicate: 0, recordsRejected: 0 });
    lap('ledger update');
    await client.query('commit');
    lap('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

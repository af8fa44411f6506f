import type pg from 'pg';
import { validateMarketRecord } from '../coingecko/market-record.js';
import { copyLines } from '../db/copy-text.js';
import { inTransaction } from '../db/pool.js';
import { classifyPostgresError, PermanentError, RetryableError } from '../errors.js';
import { lockBatch, markBatchLoaded } from '../pipeline/run-ledger.js';
import { ensurePartitionsFor, forgetPartitions } from './partitions.js';
import { SNAPSHOT_COLUMNS, snapshotCopyLine } from './snapshot-row.js';

export interface LoadBatchInput {
  readonly runId: string;
  readonly batchNo: number;
  readonly vsCurrency: string;
  /** The parsed /coins/markets array, unvalidated. */
  readonly items: readonly unknown[];
  /**
   * Each item's JSON text as CoinGecko sent it, in the same order (see parseJsonArrayItems). Stored
   * as the `record` column; without it each record is serialised again.
   */
  readonly texts?: readonly string[];
}

export interface LoadBatchOutcome {
  readonly status: 'loaded' | 'already-loaded';
  readonly rowsLoaded: number;
  readonly rowsDuplicate: number;
  readonly recordsRejected: number;
  /** Fields CoinGecko sent that the documented schema lacks (schema drift): how many records, one example coin. */
  readonly unknownFields: Readonly<Record<string, { readonly records: number; readonly exampleCoin: string }>>;
}

const STAGING = 'snapshot_staging';

/**
 * Loads one batch: valid records are COPYed into a session temp table, then inserted into the
 * partitioned raw table with ON CONFLICT DO NOTHING; rejected records go to the quarantine; the
 * ledger moves — all in one transaction. A retry after a crash, or the same tick twice, adds no row;
 * a failure anywhere leaves nothing half-written.
 */
export async function loadSnapshotBatch(pool: pg.Pool, input: LoadBatchInput): Promise<LoadBatchOutcome> {
  const context = { runId: input.runId, batchNo: input.batchNo, vsCurrency: input.vsCurrency };
  const valid: { lastUpdated: string; line: string }[] = [];
  const rejected: { index: number; coinId: string | null; reason: string; text: string }[] = [];
  const unknownFields: Record<string, { records: number; exampleCoin: string }> = {};
  const { items, texts } = input;
  for (let index = 0; index < items.length; index++) {
    const result = validateMarketRecord(items[index]);
    if (result.ok) {
      const { record } = result;
      // Encoded before the transaction starts, so the ledger row is locked for the database work only.
      valid.push({ lastUpdated: record.lastUpdated, line: snapshotCopyLine(record, context, texts?.[index]) });
      for (const field of record.unknownFields) {
        const seen = (unknownFields[field] ??= { records: 0, exampleCoin: record.id });
        seen.records++;
      }
    } else {
      rejected.push({ index, coinId: result.coinId, reason: result.reason, text: texts?.[index] ?? JSON.stringify(result.source ?? null) });
    }
  }

  try {
    await ensurePartitionsFor(pool, valid.map((r) => r.lastUpdated));
    return await inTransaction(pool, async (client) => {
      const status = await lockBatch(client, input.runId, input.batchNo);
      if (status === undefined) throw new PermanentError(`batch ${input.batchNo} of run ${input.runId} is not in the run ledger`);
      if (status === 'loaded') {
        return { status: 'already-loaded', rowsLoaded: 0, rowsDuplicate: 0, recordsRejected: 0, unknownFields };
      }
      const rowsLoaded = await insertSnapshots(client, valid.map((r) => r.line));
      await quarantine(client, input, rejected);
      const counts = {
        recordsReceived: items.length,
        rowsLoaded,
        rowsDuplicate: valid.length - rowsLoaded,
        recordsRejected: rejected.length,
      };
      await markBatchLoaded(client, input.runId, input.batchNo, counts);
      return { status: 'loaded', rowsLoaded, rowsDuplicate: counts.rowsDuplicate, recordsRejected: rejected.length, unknownFields };
    });
  } catch (error) {
    if (error instanceof PermanentError || error instanceof RetryableError) throw error;
    const classified = classifyPostgresError(error, `loading batch ${input.batchNo} of run ${input.runId}`);
    // "no partition of relation found": a partition vanished under a cached check (retention); retry re-creates it.
    if ((error as { code?: string }).code === '23514') {
      forgetPartitions(pool);
      throw new RetryableError(classified.message, { cause: error });
    }
    throw classified;
  }
}

async function insertSnapshots(client: pg.PoolClient, lines: readonly string[]): Promise<number> {
  if (lines.length === 0) return 0;
  // A temp table per session (not per transaction) avoids catalog churn; ON COMMIT DELETE ROWS empties it.
  await client.query(
    `create temp table if not exists ${STAGING} (like raw.coin_market_snapshots including defaults) on commit delete rows`,
  );
  await copyLines(client, STAGING, SNAPSHOT_COLUMNS, lines);
  const columns = SNAPSHOT_COLUMNS.join(', ');
  const inserted = await client.query(
    `insert into raw.coin_market_snapshots (${columns}) select ${columns} from ${STAGING} on conflict do nothing`,
  );
  return inserted.rowCount ?? 0;
}

async function quarantine(
  client: pg.PoolClient,
  input: LoadBatchInput,
  rejected: readonly { index: number; coinId: string | null; reason: string; text: string }[],
): Promise<void> {
  if (rejected.length === 0) return;
  await client.query(
    `insert into pipeline.quarantined_records (run_id, batch_no, record_index, coin_id, reason, record)
     select $1, $2, t.record_index, t.coin_id, t.reason, t.record::json
       from unnest($3::int[], $4::text[], $5::text[], $6::text[]) as t(record_index, coin_id, reason, record)
     on conflict (run_id, batch_no, record_index) do nothing`,
    [
      input.runId,
      input.batchNo,
      rejected.map((r) => r.index),
      rejected.map((r) => r.coinId),
      rejected.map((r) => r.reason),
      rejected.map((r) => r.text),
    ],
  );
}

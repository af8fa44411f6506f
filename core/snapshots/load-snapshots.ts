import type pg from 'pg';
import { copyBuffers } from '../db/copy-text.js';
import { inTransaction } from '../db/pool.js';
import { classifyPostgresError, PermanentError, RetryableError } from '../errors.js';
import { copyTextWithout, type ParkedBatch } from '../handoff/parked-batch.js';
import { markBatchLoaded } from '../pipeline/run-ledger.js';
import { ENTER_LOAD } from './load-barrier.js';
import { keyParameters, KEYS_TO_SKIP } from './loaded-keys.js';
import { ensurePartitionsFor, forgetPartitions } from './partitions.js';
import { SNAPSHOT_COLUMNS } from './raw-columns.js';
import { retentionCutoff } from './retention-window.js';
import { recordStaleObservations, staleRows } from './stale-observations.js';
import type { UnknownFields } from './validated-batch.js';

export interface LoadBatchOutcome {
  readonly status: 'loaded' | 'already-loaded';
  readonly rowsLoaded: number;
  readonly rowsDuplicate: number;
  readonly recordsRejected: number;
  /** Valid rows older than the raw retention window: not loaded, counted here on every tick that sees them. */
  readonly rowsStale: number;
  /** Of those, how many were recorded in pipeline.stale_observations for the first time. */
  readonly staleRecorded: number;
  /** Fields CoinGecko sent that the documented schema lacks (schema drift): how many records, one example coin. */
  readonly unknownFields: UnknownFields;
  /**
   * The fetch worker checked the batch's keys, but one was loaded since (the same data loaded by an
   * overlapping tick or a redelivered job): the COPY met the primary key and the batch was loaded
   * again with a key lookup. Often seen, it means loads lag far behind fetches.
   */
  readonly staleKeyCheck: boolean;
}

/**
 * How often a batch is retried at once with a key lookup when a concurrent load of another batch
 * committed one of its keys between the key check and our COPY; the next lookup filters that key out.
 */
const CONCURRENT_DUPLICATE_ATTEMPTS = 3;

/**
 * Loads one parked batch in one transaction: locks its ledger row, looks up which of its keys are
 * already in raw.coin_market_snapshots (one indexed lookup; none when the fetch worker checked them),
 * COPYs the other valid records straight into the partitioned table, quarantines the rejected ones
 * and moves the ledger. A retry after a crash, the same tick twice, or the same batch delivered twice at
 * once adds no row; a failure anywhere leaves nothing half-written. Five statements when nothing is
 * rejected (begin, start, COPY, ledger, commit): each is a round trip the batch's 250 rows must
 * amortise, so none is spent on its own.
 *
 * Rows observed before the raw retention window (`retentionDays`, TRANSFORM_RAW_RETENTION_DAYS; 0 or
 * absent: none) are not loaded and get no partition: they are recorded once as stale observations
 * (core/snapshots/stale-observations.ts).
 */
export async function loadBatch(
  pool: pg.Pool,
  batch: ParkedBatch,
  options: { readonly retentionDays?: number; readonly now?: Date } = {},
): Promise<LoadBatchOutcome> {
  const context = batch.context;
  const { unknownFields, rejected } = batch;
  const valid = batch.coinIds.length;
  const leftOut = batch.duplicatesLeftOut ?? 0;
  const stale = staleRows(batch.lastUpdated, retentionCutoff(options.retentionDays ?? 0, options.now));
  try {
    await ensurePartitionsFor(pool, stale.length === 0 ? batch.lastUpdated : withoutRows(batch.lastUpdated, stale));
    const checked = batch.duplicatesLeftOut !== undefined;
    let lookUp = !checked;
    for (let lookups = lookUp ? 1 : 0; ; lookups++) {
      const staleKeyCheck = checked && lookUp;
      try {
        return await inTransaction(pool, async (client) => {
          const start = await startLoad(client, batch, lookUp);
          if (start === undefined)
            throw new PermanentError(`batch ${context.batchNo} of run ${context.runId} is not in the run ledger`);
          if (start.status === 'loaded') {
            return {
              status: 'already-loaded',
              rowsLoaded: 0,
              rowsDuplicate: 0,
              recordsRejected: 0,
              rowsStale: 0,
              staleRecorded: 0,
              unknownFields,
              staleKeyCheck,
            };
          }
          const skip = stale.length === 0 ? start.skip : [...new Set([...start.skip, ...stale])];
          const rowsLoaded = await insertSnapshots(client, batch, skip);
          const staleRecorded = await recordStaleObservations(client, context, batch, stale);
          await quarantine(client, context, rejected);
          const counts = {
            recordsReceived: batch.recordsReceived,
            rowsLoaded,
            rowsDuplicate: leftOut + valid - rowsLoaded - stale.length,
            rowsStale: stale.length,
            recordsRejected: rejected.length,
          };
          await markBatchLoaded(client, context.runId, context.batchNo, counts);
          return {
            status: 'loaded',
            rowsLoaded,
            rowsDuplicate: counts.rowsDuplicate,
            recordsRejected: rejected.length,
            rowsStale: stale.length,
            staleRecorded,
            unknownFields,
            staleKeyCheck,
          };
        });
      } catch (error) {
        if (!isConcurrentDuplicate(error) || lookups >= CONCURRENT_DUPLICATE_ATTEMPTS) throw error;
        lookUp = true;
      }
    }
  } catch (error) {
    if (error instanceof PermanentError || error instanceof RetryableError) throw error;
    const doing = `loading batch ${context.batchNo} of run ${context.runId}`;
    // Still racing another load for the same keys after several attempts: BullMQ's backoff retries later.
    if (isConcurrentDuplicate(error))
      throw new RetryableError(`${doing}: a concurrent load kept inserting the same snapshots`, { cause: error });
    const classified = classifyPostgresError(error, doing);
    // "no partition of relation found": a partition vanished under a cached check (retention); retry re-creates it.
    if ((error as { code?: string }).code === '23514') {
      forgetPartitions(pool);
      throw new RetryableError(classified.message, { cause: error });
    }
    throw classified;
  }
}

function withoutRows(values: readonly string[], rows: readonly number[]): string[] {
  const leave = new Set(rows);
  return values.filter((_, i) => !leave.has(i));
}

/**
 * A unique violation on a snapshot partition's key: another transaction committed a row with one
 * of our keys after they were checked, by the fetch worker or by our lookup (two ticks with the same
 * data loading at once). Nothing of ours was committed, and a new attempt finds that key and leaves
 * it out.
 */
function isConcurrentDuplicate(error: unknown): boolean {
  const err = error as { code?: string; table?: string } | undefined;
  return err?.code === '23505' && (err.table ?? '').startsWith('coin_market_snapshots');
}

/**
 * The load transaction's first statement, three things in one round trip: lock the batch's ledger row
 * and read its status, enter the load barrier, and find the keys to leave out. FOR UPDATE reads the
 * status from the row's newest version, after waiting for a concurrent load of the same batch, so that
 * load's commit is seen as 'loaded'. The key lookup sees what had committed when the statement began;
 * a key another batch commits after that makes our COPY fail with a unique violation, and the retry
 * leaves it out, as when it commits between lookup and COPY. The barrier is entered before the COPY
 * starts, which is all it asks (see load-barrier.ts). A batch whose keys the fetch worker checked
 * (duplicatesLeftOut) starts without the lookup, a third of the transaction's time: its COPY meets
 * the primary key only if one of its keys was loaded since, and the retry then looks them up.
 */
const startStatement = (lookUp: boolean) => `
  select b.status, ${ENTER_LOAD} as entered, ${lookUp ? `array(${KEYS_TO_SKIP})` : `'{}'::int[]`} as skip
    from pipeline.pipeline_batches b
   where b.run_id = ${lookUp ? '$6' : '$1'} and b.batch_no = ${lookUp ? '$7' : '$2'}
     for update of b`;
const START_LOAD = startStatement(true);
const START_CHECKED_LOAD = startStatement(false);

async function startLoad(
  client: pg.PoolClient,
  batch: ParkedBatch,
  lookUp: boolean,
): Promise<{ status: string; skip: number[] } | undefined> {
  const { runId, batchNo, vsCurrency } = batch.context;
  const result = await client.query<{ status: string; skip: number[] }>(
    lookUp
      ? {
          name: 'snapshot-load-start',
          text: START_LOAD,
          values: [...keyParameters(vsCurrency, batch.coinIds, batch.lastUpdated), runId, batchNo],
        }
      : { name: 'snapshot-checked-load-start', text: START_CHECKED_LOAD, values: [runId, batchNo] },
  );
  return result.rows[0];
}

async function insertSnapshots(client: pg.PoolClient, batch: ParkedBatch, skip: readonly number[]): Promise<number> {
  const rows = batch.coinIds.length;
  if (rows === 0 || skip.length === rows) return 0;
  // Straight into the partitioned table: staging plus `insert … on conflict` cost ~30% more.
  const chunks = copyTextWithout(batch, new Set(skip));
  return copyBuffers(client, 'raw.coin_market_snapshots', SNAPSHOT_COLUMNS, chunks);
}

async function quarantine(
  client: pg.PoolClient,
  input: ParkedBatch['context'],
  rejected: ParkedBatch['rejected'],
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

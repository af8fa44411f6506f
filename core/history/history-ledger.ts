import type pg from 'pg';
import { inTransaction } from '../db/pool.js';

/**
 * The history ledger: pipeline.history_runs (one backfill, first-start backfill or gap repair) and
 * pipeline.history_items (one coin and range of it: one CoinGecko call). Item transitions are
 * idempotent (pending → done or failed; failed → done when a failed job is retried from Bull Board),
 * and the run is finished by whichever transition completes it.
 */
type Queryable = Pick<pg.PoolClient, 'query'>;

export type HistoryKind = 'backfill' | 'initial' | 'repair';

export interface HistoryItemPlan {
  readonly coinId: string;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface PlannedHistoryRun {
  readonly historyRunId: string;
  readonly kind: HistoryKind;
  readonly vsCurrency: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly coins: number;
  /** What asked for it (the command's arguments, the gap), for the Pipeline page and the logs. */
  readonly requested: Record<string, unknown>;
  readonly items: readonly HistoryItemPlan[];
}

/**
 * Records a run and its items. Returns false when it exists already: the same id, or a second
 * first-start backfill (one per database, see the migration's partial unique index).
 */
export async function recordHistoryRun(pool: pg.Pool, run: PlannedHistoryRun): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `insert into pipeline.history_runs
         (history_run_id, kind, vs_currency, range_from, range_to, coins, items, requested, status, finished_at)
       values ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0), $6, $7, $8,
               case when $7 = 0 then 'done' else 'running' end, case when $7 = 0 then now() end)
       on conflict do nothing`,
      [
        run.historyRunId,
        run.kind,
        run.vsCurrency,
        run.fromMs,
        run.toMs,
        run.coins,
        run.items.length,
        JSON.stringify(run.requested),
      ],
    );
    if (inserted.rowCount !== 1) return false;
    if (run.items.length > 0) {
      await client.query(
        `insert into pipeline.history_items (history_run_id, item_no, coin_id, range_from, range_to)
         select $1, ordinality - 1, coin_id, to_timestamp(from_ms / 1000.0), to_timestamp(to_ms / 1000.0)
           from unnest($2::text[], $3::float8[], $4::float8[]) with ordinality as t(coin_id, from_ms, to_ms, ordinality)`,
        [
          run.historyRunId,
          run.items.map((i) => i.coinId),
          run.items.map((i) => i.fromMs),
          run.items.map((i) => i.toMs),
        ],
      );
    }
    return true;
  });
}

/**
 * Counts a call an item's job is about to make (each attempt is a call against the rate limit), and
 * says whether to make it: false when the item is done already (a job redelivered after a worker
 * died between storing the points and telling BullMQ, or added twice) or no longer recorded. Such a
 * job makes no call: a killed backfill must not fetch a range twice.
 */
export async function countHistoryCall(pool: pg.Pool, historyRunId: string, itemNo: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `update pipeline.history_items set calls = calls + 1
      where history_run_id = $1 and item_no = $2 and status <> 'done'`,
    [historyRunId, itemNo],
  );
  return rowCount === 1;
}

export interface ItemOutcome {
  readonly httpStatus: number;
  readonly pointsReceived: number;
  readonly rowsInserted: number;
  readonly pointsRejected: number;
}

/** Marks an item done (in the transaction that stored its points) and finishes the run if that was the last one. */
export async function markHistoryItemDone(
  client: Queryable,
  historyRunId: string,
  itemNo: number,
  outcome: ItemOutcome,
): Promise<void> {
  await client.query(
    `update pipeline.history_items
        set status = 'done', http_status = $3, points_received = $4, rows_inserted = $5, points_rejected = $6,
            error = null, finished_at = now()
      where history_run_id = $1 and item_no = $2 and status <> 'done'`,
    [historyRunId, itemNo, outcome.httpStatus, outcome.pointsReceived, outcome.rowsInserted, outcome.pointsRejected],
  );
  await finishHistoryRunIfComplete(client, historyRunId);
}

/** Marks an item failed for good (attempts used up, or a permanent error such as 404 or 401/10012). */
export async function markHistoryItemFailed(
  pool: pg.Pool,
  historyRunId: string,
  itemNo: number,
  reason: string,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `update pipeline.history_items
          set status = 'failed', error = $3, http_status = coalesce(substring($3 from 'HTTP (\\d{3})')::integer, http_status),
              finished_at = now()
        where history_run_id = $1 and item_no = $2 and status = 'pending'`,
      [historyRunId, itemNo, reason.slice(0, 2000)],
    );
    await finishHistoryRunIfComplete(client, historyRunId);
  });
}

/**
 * Sets a running run's final status once no item is pending: done (every item done), failed (none
 * done) or partial. A failed item retried to success later moves a finished run forward again.
 *
 * The run's row is locked first, in a statement of its own: two workers finishing the last two
 * items at once would otherwise each count the other's item as pending (neither has committed) and
 * leave the run running for ever. Locked, the second waits for the first to commit, and its count,
 * a new statement, sees both items.
 */
async function finishHistoryRunIfComplete(client: Queryable, historyRunId: string): Promise<void> {
  await client.query(`select 1 from pipeline.history_runs where history_run_id = $1 for update`, [historyRunId]);
  await client.query(
    `update pipeline.history_runs r
        set status = case when c.failed = 0 then 'done' when c.done = 0 then 'failed' else 'partial' end,
            finished_at = coalesce(r.finished_at, now())
       from (select count(*) filter (where status = 'pending') as pending,
                    count(*) filter (where status = 'done') as done,
                    count(*) filter (where status = 'failed') as failed
               from pipeline.history_items where history_run_id = $1) c
      where r.history_run_id = $1 and c.pending = 0
        and r.status is distinct from case when c.failed = 0 then 'done' when c.done = 0 then 'failed' else 'partial' end`,
    [historyRunId],
  );
}

/**
 * The ranges already fetched for these coins, or being fetched (items done in any run for the
 * currency, or pending in a running one), that overlap [fromMs, toMs]: what a new backfill leaves out.
 */
export async function fetchedRanges(
  pool: pg.Pool,
  vsCurrency: string,
  coinIds: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<Map<string, Array<[number, number]>>> {
  const { rows } = await pool.query<{ coin_id: string; from_ms: number; to_ms: number }>(
    `select i.coin_id, extract(epoch from i.range_from) * 1000 as from_ms, extract(epoch from i.range_to) * 1000 as to_ms
       from pipeline.history_items i
       join pipeline.history_runs r using (history_run_id)
      where (i.status = 'done' or (i.status = 'pending' and r.status = 'running')) and r.vs_currency = $1 and i.coin_id = any($2::text[])
        and i.range_to > to_timestamp($3 / 1000.0) and i.range_from < to_timestamp($4 / 1000.0)`,
    [vsCurrency, coinIds, fromMs, toMs],
  );
  const ranges = new Map<string, Array<[number, number]>>();
  for (const row of rows) {
    const list = ranges.get(row.coin_id) ?? [];
    list.push([Number(row.from_ms), Number(row.to_ms)]);
    ranges.set(row.coin_id, list);
  }
  return ranges;
}

/** Other running runs with pending items for these coins in [fromMs, toMs]: a new run left those ranges to them. */
export async function overlappingRunningRuns(
  pool: pg.Pool,
  coinIds: readonly string[],
  fromMs: number,
  toMs: number,
  exceptRunId: string,
): Promise<Array<{ historyRunId: string; kind: HistoryKind }>> {
  const { rows } = await pool.query<{ history_run_id: string; kind: HistoryKind }>(
    `select distinct r.history_run_id, r.kind
       from pipeline.history_items i join pipeline.history_runs r using (history_run_id)
      where r.status = 'running' and i.status = 'pending' and r.history_run_id <> $4
        and i.coin_id = any($1::text[]) and i.range_to > to_timestamp($2 / 1000.0) and i.range_from < to_timestamp($3 / 1000.0)
      order by r.history_run_id`,
    [coinIds, fromMs, toMs, exceptRunId],
  );
  return rows.map((r) => ({ historyRunId: r.history_run_id, kind: r.kind }));
}

export interface HistoryProgress {
  readonly items: number;
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
  readonly calls: number;
  readonly rowsInserted: number;
  readonly pointsRejected: number;
  /** Coins none of whose calls is pending (a coin of a year's backfill has five). */
  readonly coinsDone: number;
  readonly coins: number;
}

/** Where some runs stand, added up (a command's progress line). */
export async function historyProgress(pool: pg.Pool, historyRunIds: readonly string[]): Promise<HistoryProgress> {
  const { rows } = await pool.query<Record<string, string | number | null>>(
    `select count(*) as items,
            count(*) filter (where status = 'done') as done,
            count(*) filter (where status = 'failed') as failed,
            count(*) filter (where status = 'pending') as pending,
            coalesce(sum(calls), 0) as calls,
            coalesce(sum(rows_inserted), 0) as rows_inserted,
            coalesce(sum(points_rejected), 0) as points_rejected,
            count(distinct coin_id) as coins,
            count(distinct coin_id) - count(distinct coin_id) filter (where status = 'pending') as coins_done
       from pipeline.history_items where history_run_id = any($1::text[])`,
    [historyRunIds],
  );
  const r = rows[0]!;
  return {
    items: Number(r.items),
    done: Number(r.done),
    failed: Number(r.failed),
    pending: Number(r.pending),
    calls: Number(r.calls),
    rowsInserted: Number(r.rows_inserted),
    pointsRejected: Number(r.points_rejected),
    coins: Number(r.coins),
    coinsDone: Number(r.coins_done),
  };
}

/** The failed items of some runs with their reasons (a command's summary). */
export async function failedHistoryItems(
  pool: pg.Pool,
  historyRunIds: readonly string[],
  limit = 20,
): Promise<Array<{ coinId: string; error: string }>> {
  const { rows } = await pool.query<{ coin_id: string; error: string | null }>(
    `select coin_id, error from pipeline.history_items
      where history_run_id = any($1::text[]) and status = 'failed' order by history_run_id, item_no limit $2`,
    [historyRunIds, limit],
  );
  return rows.map((r) => ({ coinId: r.coin_id, error: r.error ?? 'unknown' }));
}

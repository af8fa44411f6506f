import type pg from 'pg';

/** Coins per batch, as the planner cuts them at COINGECKO_MAX_IDS_PER_CALL's default. */
const BATCH_COINS = 250;

/**
 * The run ledger a pipeline tracking `coins` coins writes over `minutes` of 1-minute ticks (one run
 * and ceil(coins / 250) loaded batches each, run ids matching bench/synthetic-history.ts's snapshots),
 * plus a few rows in every other table the pipeline endpoints read (quarantine, stale observations,
 * history runs, coverage gaps), so none of them is benched answering an empty list.
 * The freshness queries, the /metrics gauges and the pipeline page read these, never raw.
 */
export async function insertLedger(pool: pg.Pool, options: { coins: number; minutes: number }): Promise<void> {
  const { coins, minutes } = options;
  await appendTicks(pool, coins, minutes);
  await pool.query(
    `insert into pipeline.quarantined_records (run_id, batch_no, record_index, coin_id, reason, record, quarantined_at)
     select r.run_id, 0, i, 'coin-' || i, 'current_price: expected a number', json_build_object('id', 'coin-' || i), r.started_at
       from (select run_id, started_at from pipeline.pipeline_runs order by started_at desc limit 200) as r,
            generate_series(1, 3) as i`,
  );
  await pool.query(
    `insert into pipeline.stale_observations (coin_id, vs_currency, last_updated, run_id, batch_no, recorded_at)
     select 'coin-' || i, 'usd', now() - interval '40 days' - make_interval(mins => i), 'bench', 0, now() - make_interval(mins => i)
       from generate_series(1, 300) as i`,
  );
  await pool.query(
    `insert into pipeline.history_runs (history_run_id, kind, vs_currency, range_from, range_to, coins, items, status, created_at, finished_at)
     select 'bench-history-' || i, case when i = 1 then 'initial' else 'repair' end, 'usd',
            now() - make_interval(days => 30 + i), now() - make_interval(days => i), 250, 250, 'done',
            now() - make_interval(days => i), now() - make_interval(days => i) + interval '5 minutes'
       from generate_series(1, 30) as i`,
  );
  await pool.query(
    `insert into pipeline.history_items (history_run_id, item_no, coin_id, range_from, range_to, status, calls, finished_at)
     select h.history_run_id, c, 'coin-' || c, h.range_from, h.range_to, 'done', 1, h.finished_at
       from pipeline.history_runs h, generate_series(1, 250) as c`,
  );
  await pool.query(
    `insert into pipeline.coverage_gaps (gap_from, gap_to, coins, coins_tracked, detected_at, status, history_run_id, repaired_at)
     select now() - make_interval(days => i, mins => 10), now() - make_interval(days => i), 250, $1::int,
            now() - make_interval(days => i), 'repaired', 'bench-history-' || i, now() - make_interval(days => i) + interval '5 minutes'
       from generate_series(2, 30) as i`,
    [coins],
  );
  await pool.query('analyze pipeline.pipeline_runs; analyze pipeline.pipeline_batches');
}

/**
 * The 1-minute ticks of `coins` coins from the newest one in the ledger up to this minute (the last
 * `minutes` when the ledger is empty), as a running pipeline would have written them meanwhile.
 * Appended, never moved by an update: rewriting the ledger left it with dead rows autovacuum had not
 * reached and statistics far off, which no running pipeline shows.
 */
async function appendTicks(pool: pg.Pool, coins: number, minutes: number): Promise<void> {
  const runs = await pool.query<{ run_id: string }>(
    `insert into pipeline.pipeline_runs
       (run_id, trigger, scheduled_at, started_at, coins_planned, batches_planned, batches_fetched, batches_loaded,
        rows_loaded, finished_at, status, transform_status, transform_finished_at)
     select 'bench-' || to_char(t at time zone 'UTC', 'YYYYMMDDHH24MI'), 'schedule', t, t, $1::int, b, b, b, $1::int,
            t + interval '3 seconds', 'loaded', 'succeeded', t + interval '5 seconds'
       from generate_series(coalesce((select max(started_at) from pipeline.pipeline_runs) + interval '1 minute',
                                     date_trunc('minute', now()) - make_interval(mins => $2::int - 1)),
                            date_trunc('minute', now()), interval '1 minute') as t,
            (select ceil($1::numeric / ${BATCH_COINS})::int as b) as n
     returning run_id`,
    [coins, minutes],
  );
  if (runs.rowCount === 0) return;
  await pool.query(
    `with batches as (
       select (c - 1) / ${BATCH_COINS} as batch_no,
              array_agg(case c when 1 then 'bitcoin' when 2 then 'ethereum' else 'coin-' || c end order by c) as coin_ids
         from generate_series(1, $1::int) as c group by 1
     )
     insert into pipeline.pipeline_batches
       (run_id, batch_no, coin_ids, status, fetched_at, loaded_at, records_received, rows_loaded, rows_duplicate, records_rejected)
     select r.run_id, b.batch_no, b.coin_ids, 'loaded', r.started_at + interval '1 second', r.started_at + interval '2 seconds',
            cardinality(b.coin_ids), cardinality(b.coin_ids), 0, 0
       from pipeline.pipeline_runs r cross join batches b
      where r.run_id = any($2)`,
    [coins, runs.rows.map((r) => r.run_id)],
  );
}

/**
 * Appends the ticks a running pipeline would have written since the newest one, so the freshness
 * queries (the last STALE_AFTER of the ledger) see the shape they see in production all through the
 * benchmark, not a ledger that ages into having nothing recent to compare.
 */
export async function freshenLedger(pool: pg.Pool, coins: number): Promise<void> {
  await appendTicks(pool, coins, 1);
}

import type pg from 'pg';

/** Run statuses of pipeline.pipeline_runs; each is always reported, at 0 when absent. */
export const RUN_STATUSES = ['running', 'loaded', 'partial', 'failed', 'lost', 'superseded'] as const;

/**
 * Every query below reads the run ledger through pipeline_runs_started_idx (newest runs first, within
 * a bounded window) and the pipeline_batches primary key, never raw.coin_market_snapshots: its only
 * index on loaded_at is a BRIN index, which cannot answer max(loaded_at), so that would scan every
 * daily partition on each scrape.
 */
const LAST_LOADED_SQL = `
  select extract(epoch from (select max(b.loaded_at) from pipeline.pipeline_batches b
                              where b.run_id = r.run_id and b.status = 'loaded')) as last_loaded
    from pipeline.pipeline_runs r
   where r.batches_loaded > 0 and r.started_at > now() - interval '7 days'
   order by r.started_at desc
   limit 1`;

const LAST_FINISHED_SQL = `
  select extract(epoch from finished_at - started_at) as load_seconds,
         extract(epoch from transform_finished_at - started_at) as transform_seconds
    from pipeline.pipeline_runs
   where finished_at is not null and started_at > now() - interval '7 days'
   order by started_at desc
   limit 1`;

const RECENT_RUNS_SQL = `
  select status, count(*)::int as runs
    from pipeline.pipeline_runs
   where started_at > now() - interval '1 hour'
   group by status`;

// Counted from the run ledger rather than the analytics_marts.dim_coin_freshness mart (which lists
// *which* coins, on the pipeline page): the ledger exists before the first transform and does not go
// stale when transforms stop. The coins planned by the newest run, minus those whose batch loaded
// within the window (bounded by runs started within it, found through the started_at index).
// Batches are compared whole first, and only where they can differ: a planned batch that itself
// loaded within the window, or whose batch number's newest load within the window had the same id
// list (every batch, when the universe did not change: the newest runs through the started_at index,
// a primary-key probe each, one array comparison), needs no look at its coins. Only the others are unnested and checked coin by
// coin against every batch of the window. Both shortcuts only skip batches whose coins are all fresh,
// so the count is the same as checking every coin. Comparing each planned batch with every batch of
// the window by hash (900 arrays of 250 ids at 15,000 coins and 1-minute ticks) grew with the coins
// tracked and was most of /metrics' time (docs/benchmarks.md); unnesting every batch (225,000 ids,
// sorted and spilled to disk for the distinct) took 0.5-1 s before that.
// A run never lists a coin twice, so the planned coins are counted without a distinct.
export const STALE_COINS_SQL = `
  with latest as (
    select run_id, started_at from pipeline.pipeline_runs order by started_at desc limit 1
  ), tracked as materialized (
    select b.batch_no, b.coin_ids, b.status, b.loaded_at, l.started_at
      from latest l join pipeline.pipeline_batches b on b.run_id = l.run_id
  ), unmatched as materialized (
    select t.coin_ids
      from tracked t
     where not (t.status = 'loaded' and t.loaded_at > now() - make_interval(secs => $1)
                and t.started_at > now() - make_interval(secs => $1))
       and (select b.coin_ids
              from pipeline.pipeline_runs r
              join pipeline.pipeline_batches b on b.run_id = r.run_id and b.batch_no = t.batch_no
             where r.started_at > now() - make_interval(secs => $1)
               and b.status = 'loaded' and b.loaded_at > now() - make_interval(secs => $1)
             order by r.started_at desc
             limit 1) is distinct from t.coin_ids
  ), recent as (
    select b.coin_ids
      from pipeline.pipeline_runs r join pipeline.pipeline_batches b on b.run_id = r.run_id
     where r.started_at > now() - make_interval(secs => $1)
       and b.status = 'loaded' and b.loaded_at > now() - make_interval(secs => $1)
  )
  select (select coalesce(sum(cardinality(coin_ids)), 0) from tracked)::int as tracked,
         -- The window's batches are read only when some planned batch is left to check coin by coin.
         case when exists (select from unmatched)
              then (select count(*) from (select unnest(coin_ids) as coin_id from unmatched) u
                     where not exists (select from (select unnest(coin_ids) as coin_id from recent) f
                                        where f.coin_id = u.coin_id))
              else 0 end::int as stale`;

/** One read of the run ledger: shared by the pipeline page (pipeline-queries.ts) and the gauges (metrics/freshness-metrics.ts). */
export interface Freshness {
  lastLoaded: number | null;
  lastTick: { load: number | null; transform: number | null } | undefined;
  recentRuns: Map<string, number>;
  coins: { tracked: number; stale: number };
}

/** Reads in flight, per pool and threshold: callers arriving while one runs share it. */
const inFlight = new WeakMap<pg.Pool, Map<number, Promise<Freshness>>>();

/**
 * The run ledger's freshness. Concurrent callers (every open Pipeline page refetches the moment a
 * transform run finishes, and Prometheus may scrape then too) share one read instead of each running
 * the four queries; a caller after it settles reads again, so nothing is served stale.
 */
export function readFreshness(pool: pg.Pool, staleAfterSeconds: number): Promise<Freshness> {
  let reads = inFlight.get(pool);
  if (!reads) inFlight.set(pool, (reads = new Map()));
  const running = reads.get(staleAfterSeconds);
  if (running) return running;
  const read = queryFreshness(pool, staleAfterSeconds).finally(() => reads.delete(staleAfterSeconds));
  reads.set(staleAfterSeconds, read);
  return read;
}

async function queryFreshness(pool: pg.Pool, staleAfterSeconds: number): Promise<Freshness> {
  const [loaded, finished, recent, coins] = await Promise.all([
    pool.query<{ last_loaded: string | null }>(LAST_LOADED_SQL),
    pool.query<{ load_seconds: string | null; transform_seconds: string | null }>(LAST_FINISHED_SQL),
    pool.query<{ status: string; runs: number }>(RECENT_RUNS_SQL),
    pool.query<{ tracked: number; stale: number }>(STALE_COINS_SQL, [staleAfterSeconds]),
  ]);
  const num = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  const tick = finished.rows[0];
  return {
    lastLoaded: num(loaded.rows[0]?.last_loaded),
    lastTick: tick && { load: num(tick.load_seconds), transform: num(tick.transform_seconds) },
    recentRuns: new Map(recent.rows.map((r) => [r.status, r.runs])),
    coins: coins.rows[0] ?? { tracked: 0, stale: 0 },
  };
}

import type pg from 'pg';

/** What every open page is told when a transform run finishes (and once on connecting). */
export interface TransformFinished {
  readonly transformRunId: number | null;
  readonly runId: string | null;
  readonly status: string | null;
  readonly finishedAt: Date | null;
  /**
   * How new the data on the pages is: the newest snapshot load that the newest successful run took
   * in (the earlier of the newest loaded batch and that run's load barrier), null when nothing loaded
   * within 7 days or no run succeeded. Every page's header warns once it is older than STALE_AFTER.
   */
  readonly dataAt: Date | null;
}

// Newest settled run, by the primary key (a backward index scan that stops at the first settled row).
// dataAt reads the newest barrier through transform_runs_loads_barrier_idx and the newest load as
// the freshness gauges do (queries/freshness-queries.ts): two index probes, not a scan of the snapshots.
const LATEST_SQL = `
  with barrier as (
    select max(loads_barrier_at) as at from pipeline.transform_runs where status = 'success'
  ), loaded as (
    select (select max(b.loaded_at) from pipeline.pipeline_batches b
             where b.run_id = r.run_id and b.status = 'loaded') as at
      from pipeline.pipeline_runs r
     where r.batches_loaded > 0 and r.started_at > now() - interval '7 days'
     order by r.started_at desc
     limit 1
  )
  select transform_run_id::int as "transformRunId", run_id as "runId", status, finished_at as "finishedAt",
         (select case when b.at is null or l.at is null then null else least(b.at, l.at) end
            from barrier b left join loaded l on true) as "dataAt"
    from pipeline.transform_runs where status <> 'running'
   order by transform_run_id desc limit 1`;

export async function latestTransform(pool: pg.Pool): Promise<TransformFinished> {
  const { rows } = await pool.query<TransformFinished>(LATEST_SQL);
  return rows[0] ?? { transformRunId: null, runId: null, status: null, finishedAt: null, dataAt: null };
}

/**
 * This process's view of the newest settled transform run: the version of the marts. The marts only
 * change when a dbt run finishes, so the response cache keys on it and the live-update poller feeds
 * it. Both read through here, so a page told "run N finished" over server-sent events never re-fetches
 * a response this process cached before it saw run N.
 *
 * Replicas share nothing: each one checks Postgres at most once per `maxAgeMs` while it serves market
 * requests (one indexed single-row read), so a replica serves a response older than the newest run
 * for at most that long, and never longer than it takes a client to tell it about a newer run
 * (`atLeast`).
 */
export class TransformWatch {
  private known: TransformFinished | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<TransformFinished> | undefined;
  private readonly listeners = new Set<(latest: TransformFinished) => void>();

  constructor(
    private readonly pool: pg.Pool,
    readonly maxAgeMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Called with the new run whenever the newest settled run changes (not on the first sighting). */
  onChange(listener: (latest: TransformFinished) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest settled run as last seen, checked again when that is older than maxAgeMs. Throws when Postgres does not answer. */
  async current(): Promise<TransformFinished> {
    if (this.known !== undefined && this.now() - this.checkedAt < this.maxAgeMs) return this.known;
    return this.check();
  }

  /**
   * Like current(), but checks at once when a client has already seen a run newer than this process
   * knows of (it learned of it from another replica's live updates).
   */
  async atLeast(transformRunId: number | undefined): Promise<TransformFinished> {
    const latest = await this.current();
    if (transformRunId === undefined || (latest.transformRunId ?? 0) >= transformRunId) return latest;
    return this.check();
  }

  /** One query however many callers ask at the same time. */
  check(): Promise<TransformFinished> {
    this.checking ??= (async () => {
      const started = this.now();
      try {
        const latest = await latestTransform(this.pool);
        this.observe(latest, started);
        return latest;
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  /** Records a sighting of the newest settled run (read at time `readAt`), telling listeners when it changed. */
  observe(latest: TransformFinished, readAt = this.now()): void {
    const changed = this.known !== undefined && this.known.transformRunId !== latest.transformRunId;
    // An older read that finishes after a newer one must not roll the version back.
    if (this.known !== undefined && (latest.transformRunId ?? 0) < (this.known.transformRunId ?? 0)) return;
    this.known = latest;
    this.checkedAt = Math.max(this.checkedAt, readAt);
    if (changed) for (const listener of this.listeners) listener(latest);
  }
}

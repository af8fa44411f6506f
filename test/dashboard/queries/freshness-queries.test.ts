import { readFreshness, STALE_COINS_SQL } from '../../../dashboard/queries/freshness-queries.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

/**
 * The run ledger's freshness (dashboard/queries/freshness-queries.ts): tracked and stale coins counted over
 * ledgers written as the pipeline writes them, checked against the definition computed the plain way
 * (every planned coin of the newest run that no batch loaded within the window), and concurrent
 * reads sharing one.
 */
const STALE_AFTER = 900;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** A run started `minutesAgo` with the given batches, each loaded a second after the start unless `unloaded`. */
async function run(runId: string, minutesAgo: number, batches: string[][], unloaded: number[] = []): Promise<void> {
  await db.pool.query(
    `insert into pipeline.pipeline_runs (run_id, trigger, started_at, batches_planned, batches_loaded, status)
     values ($1, 'schedule', now() - make_interval(mins => $2), $3, $4, 'loaded')`,
    [runId, minutesAgo, batches.length, batches.length - unloaded.length],
  );
  for (const [batchNo, ids] of batches.entries()) {
    const loaded = !unloaded.includes(batchNo);
    await db.pool.query(
      `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, loaded_at)
       values ($1, $2, $3, $4, case when $5 then now() - make_interval(mins => $6) + interval '1 second' end)`,
      [runId, batchNo, ids, loaded ? 'loaded' : 'planned', loaded, minutesAgo],
    );
  }
}

/** The definition, the plain way: a distinct set difference. */
async function expected(): Promise<{ tracked: number; stale: number }> {
  const { rows } = await db.pool.query<{ tracked: number; stale: number }>(
    `with latest as (select run_id from pipeline.pipeline_runs order by started_at desc limit 1),
          tracked as (select distinct unnest(coin_ids) as c from pipeline.pipeline_batches where run_id = (select run_id from latest)),
          fresh as (select distinct unnest(b.coin_ids) as c from pipeline.pipeline_batches b
                     where b.status = 'loaded' and b.loaded_at > now() - make_interval(secs => $1))
     select (select count(*) from tracked)::int as tracked,
            (select count(*) from tracked where c not in (select c from fresh))::int as stale`,
    [STALE_AFTER],
  );
  return rows[0]!;
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `coin-${from + i}`);

describe('readFreshness: tracked and stale coins', () => {
  beforeEach(() => db.pool.query('truncate pipeline.pipeline_runs cascade'));

  it('counts no stale coin when every batch of the newest run loaded, as in steady state', async () => {
    for (let m = 14; m >= 0; m--) await run(`t${m}`, m, [ids(0, 250), ids(250, 250), ids(500, 3)]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 503, stale: 0 });
    expect(await expected()).toEqual({ tracked: 503, stale: 0 });
  });

  it('counts the coins of a batch that has not loaded within the window, and no others', async () => {
    await run('t20', 20, [ids(0, 10), ids(10, 10)]); // outside the window
    await run('t1', 1, [ids(0, 10), ids(10, 10)], [1]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 20, stale: 10 });
    expect(await expected()).toEqual({ tracked: 20, stale: 10 });
  });

  it('checks coin by coin when the batches were cut differently (the universe changed)', async () => {
    // An earlier run loaded the same coins in other batches; the newest batch 1 did not load, and a
    // new coin appears only in it.
    await run('t5', 5, [ids(0, 7), ids(7, 13)]);
    await run('t1', 1, [ids(0, 10), [...ids(10, 10), 'newcomer']], [1]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 21, stale: 1 });
    expect(await expected()).toEqual({ tracked: 21, stale: 1 });
  });

  it('counts no stale coin while the newest tick is in flight and the one before loaded every batch', async () => {
    for (let m = 14; m >= 1; m--) await run(`t${m}`, m, [ids(0, 250), ids(250, 250), ids(500, 3)]);
    await run('t0', 0, [ids(0, 250), ids(250, 250), ids(500, 3)], [0, 1, 2]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 503, stale: 0 });
    expect(await expected()).toEqual({ tracked: 503, stale: 0 });
  });

  it('finds a batch loaded under another batch number fresh, coin by coin', async () => {
    // The universe grew at the front: the same id lists, each one batch number later.
    await run('t3', 3, [ids(0, 5), ids(5, 5)]);
    await run('t1', 1, [['newcomer'], ids(0, 5), ids(5, 5)], [0, 1, 2]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 11, stale: 1 });
    expect(await expected()).toEqual({ tracked: 11, stale: 1 });
  });

  it('counts a batch stale whose own load is older than the window, though its run is newest', async () => {
    await db.pool.query(
      `insert into pipeline.pipeline_runs (run_id, trigger, started_at, batches_planned, batches_loaded, status)
       values ('old', 'schedule', now() - interval '20 minutes', 1, 1, 'loaded')`,
    );
    await db.pool.query(
      `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, loaded_at)
       values ('old', 0, $1, 'loaded', now() - interval '19 minutes')`,
      [ids(0, 4)],
    );
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 4, stale: 4 });
    expect(await expected()).toEqual({ tracked: 4, stale: 4 });
  });

  it('agrees with the plain definition over random ledgers', async () => {
    let seed = 17;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 12; round++) {
      await db.pool.query('truncate pipeline.pipeline_runs cascade');
      for (let m = 20; m >= 0; m -= 1 + Math.floor(rnd() * 4)) {
        // Coins 0..N in batches of a random size, sometimes shifted, some batches not loaded.
        const coins = 20 + Math.floor(rnd() * 20);
        const size = 3 + Math.floor(rnd() * 8);
        const from = rnd() < 0.3 ? Math.floor(rnd() * 3) : 0;
        const batches: string[][] = [];
        for (let i = from; i < coins; i += size) batches.push(ids(i, Math.min(size, coins - i)));
        const unloaded = batches.map((_, i) => i).filter(() => rnd() < 0.25);
        await run(`r${round}-${m}`, m, batches, unloaded);
      }
      expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual(await expected());
    }
  });

  it('counts every coin stale when nothing loaded within the window', async () => {
    await run('t30', 30, [ids(0, 5)]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 5, stale: 5 });
  });
});

describe('STALE_COINS_SQL: work per read', () => {
  /**
   * Rows of pipeline.pipeline_batches one read of the stale coins fetches: the growth of this backend's
   * own counters across the read. Counted as a difference because pg_stat_xact_user_tables also holds
   * the counts of earlier transactions on the same pooled connection until the backend reports them
   * (at most once a second), such as the reads of expected().
   */
  async function batchRowsRead(): Promise<number> {
    const client = await db.pool.connect();
    const fetched = async () => {
      const stats = await client.query<{ n: string }>(
        `select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) as n
           from pg_stat_xact_user_tables where schemaname = 'pipeline' and relname = 'pipeline_batches'`,
      );
      return Number(stats.rows[0]?.n ?? 0);
    };
    try {
      await client.query('begin');
      const before = await fetched();
      const { rows } = await client.query<{ tracked: number; stale: number }>(STALE_COINS_SQL, [STALE_AFTER]);
      const after = await fetched();
      await client.query('commit');
      expect(rows[0]).toEqual(await expected());
      return after - before;
    } finally {
      client.release();
    }
  }

  // At 15,000 coins and 1-minute ticks the window holds 900 batches of 250 ids; comparing each of the
  // newest run's 60 batches with all of them made /metrics grow with the coins tracked. A ledger of
  // six hours of 1-minute ticks of 20 batches each, so the planner sees tables shaped as in production.
  it("reads about the newest run's batches, not every batch of the window, in steady state and mid-tick", async () => {
    await db.pool.query('truncate pipeline.pipeline_runs cascade');
    const tick = async (minutes: string, status: 'loaded' | 'planned') => {
      await db.pool.query(
        `insert into pipeline.pipeline_runs (run_id, trigger, started_at, batches_planned, batches_loaded, status)
         select 'w' || m, 'schedule', now() - make_interval(mins => m), 20, 20, 'loaded' from ${minutes}`,
      );
      await db.pool.query(
        `insert into pipeline.pipeline_batches (run_id, batch_no, coin_ids, status, loaded_at)
         select 'w' || m, n, (select array_agg('coin-' || (n * 50 + i) order by i) from generate_series(1, 50) as i),
                $1, case when $1 = 'loaded' then now() - make_interval(mins => m) + interval '1 second' end
           from ${minutes}, generate_series(0, 19) as n`,
        [status],
      );
      await db.pool.query('analyze pipeline.pipeline_runs, pipeline.pipeline_batches');
    };
    await tick('generate_series(1, 359) as m', 'loaded');
    const steady = await batchRowsRead();
    await tick('(values (0)) as v (m)', 'planned');
    const midTick = await batchRowsRead();
    // The window holds 15 runs x 20 = 300 batches; comparing with each of them read 7,202 rows here (a
    // scan of the whole table). Now: the newest run's 20 and a probe or two per batch (26 and 66 rows).
    expect(steady).toBeLessThan(100);
    expect(midTick).toBeLessThan(100);
  });
});

describe('readFreshness: concurrent reads', () => {
  it('share the read in flight, and a read after it settles reads again', async () => {
    const first = readFreshness(db.pool, STALE_AFTER);
    const second = readFreshness(db.pool, STALE_AFTER);
    expect(second).toBe(first);
    // Another threshold is another answer: not shared.
    const other = readFreshness(db.pool, STALE_AFTER + 1);
    expect(other).not.toBe(first);
    await Promise.all([first, other]);
    const later = readFreshness(db.pool, STALE_AFTER);
    expect(later).not.toBe(first);
    await later;
  });
});

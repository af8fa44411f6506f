import { readFreshness } from '../../../dashboard/queries/freshness-queries.js';
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

  it('counts every coin stale when nothing loaded within the window', async () => {
    await run('t30', 30, [ids(0, 5)]);
    expect((await readFreshness(db.pool, STALE_AFTER)).coins).toEqual({ tracked: 5, stale: 5 });
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

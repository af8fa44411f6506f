import pg from 'pg';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, refreshUniverse, waitForTick, type Scenario } from '../helpers/scenario.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { waitFor } from '../helpers/wait-for.js';

describe("a load worker's Postgres backend killed in the middle of a load", () => {
  let scenario: Scenario;
  let pipeline: InProcessPipeline;

  beforeAll(async () => {
    scenario = await createScenario({ coins: 1000, stepMs: 60_000 });
    pipeline = await new InProcessPipeline(scenario.config({ TRACK_TOP_N: '1000' })).start();
    await refreshUniverse(pipeline.runtime);
  });
  afterAll(async () => {
    await pipeline.stop();
    await scenario.teardown();
  });

  it('rolls the interrupted transaction back, retries, and ends with the exact row count', async () => {
    // Partitions first (creating one needs a lock the blocker below would hold up).
    await scenario.db.pool.query('select raw.ensure_snapshot_partitions(current_date - 1, current_date + 3)');
    // Park every load inside its transaction (ledger row locked, its COPY into the raw table waiting).
    const blocker = new pg.Client({ connectionString: scenario.db.url });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table raw.coin_market_snapshots in share row exclusive mode');
    const runId = await enqueueTick(pipeline.runtime);
    const victims = await waitFor(
      'loads waiting inside their transaction',
      async () => {
        const waiting = await scenario.db.pool.query<{ pid: number }>(
          "select pid from pg_stat_activity where application_name = 'cdp-test' and wait_event_type = 'Lock' and query ~* '^\\s*(copy|insert into) raw\\.coin_market_snapshots'",
        );
        return waiting.rows.length > 0 ? waiting.rows : undefined;
      },
      30_000,
    );
    const killed = await scenario.db.pool.query(
      'select count(*) filter (where pg_terminate_backend(pid))::int as n from unnest($1::int[]) as pid',
      [victims.map((v) => v.pid)],
    );
    expect(killed.rows[0].n).toBe(victims.length);
    await blocker.query('rollback');
    await blocker.end();

    const { run } = await waitForTick(pipeline.runtime, scenario.db, runId, 60_000);
    expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: 1000, rows_duplicate: 0 });
    const rows = await scenario.db.pool.query(
      'select count(*)::int as n, count(distinct coin_id)::int as coins from raw.coin_market_snapshots where run_id = $1',
      [runId],
    );
    expect(rows.rows[0]).toEqual({ n: 1000, coins: 1000 });
    // The killed loads were retried (a second attempt), not lost.
    const loads = await pipeline.runtime.queue('load').getJobs(['completed']);
    expect(loads.filter((j) => j.id!.startsWith(`load-${runId}-`) && j.attemptsMade > 1).length).toBeGreaterThanOrEqual(
      victims.length,
    );
  });
});

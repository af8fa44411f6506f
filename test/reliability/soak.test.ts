import { readFileSync } from 'node:fs';
import { testEnv } from '../helpers/config.js';
import { PipelineProcess } from '../helpers/processes.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

type Kind = 'scheduler' | 'fetch' | 'load' | 'transform';
const SOAK_TICKS = 100;
const SOAK_BUDGET_MS = 170_000;
const SETTLE_MS = 90_000;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Many short ticks while processes of every kind are SIGKILLed and restarted at random. Afterwards
 * every planned batch is loaded once or failed with a reason, the run table agrees with the data,
 * and a process that lived through it all did not keep growing.
 */
describe(`a soak of ${SOAK_TICKS} ticks with processes killed repeatedly`, () => {
  let scenario: Scenario;
  const live = new Map<string, PipelineProcess>();
  let longLived: PipelineProcess;
  let env: Record<string, string>;

  // Set when the file ends: a test body jest gave up on keeps running, and must not start processes
  // after afterAll has killed the last ones (they kept jest from exiting).
  let ended = false;
  const start = (name: string, kind: Kind) => {
    if (ended) throw new Error(`not starting ${name}: the soak has ended`);
    const child = new PipelineProcess(kind, env);
    live.set(name, child);
    return child;
  };

  beforeAll(async () => {
    scenario = await createScenario({ coins: 400, stepMs: 400 });
    env = {
      ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
      LOG_LEVEL: 'info',
      TICK_INTERVAL: '1s',
      COIN_IDS: scenario.simulator.control.universeIds().slice(0, 200).join(','),
      COINGECKO_MAX_IDS_PER_CALL: '50',
      UNIVERSE_REFRESH_INTERVAL: '1h',
      JOB_LOCK_DURATION: '2s',
      JOB_STALLED_INTERVAL: '1s',
      JOB_MAX_STALLED: '5',
    };
  });
  afterAll(async () => {
    ended = true;
    await Promise.all([...live.values()].map((p) => p.kill('SIGKILL')));
    await scenario.teardown();
  });

  it(
    'loses nothing, duplicates nothing, and keeps the books straight',
    async () => {
      const kinds: [string, Kind][] = [
        ['scheduler', 'scheduler'],
        ['fetch-a', 'fetch'],
        ['fetch-b', 'fetch'],
        ['load-a', 'load'],
        ['load-b', 'load'],
        ['transform', 'transform'],
      ];
      for (const [name, kind] of kinds) start(name, kind);
      longLived = start('fetch-long-lived', 'fetch');
      await longLived.waitForLog('fetch worker started');

      const scheduled = async () =>
        (
          await scenario.db.pool.query(
            "select count(*)::int as n from pipeline.pipeline_runs where trigger = 'schedule'",
          )
        ).rows[0].n as number;
      const started = Date.now();
      let kills = 0;
      let rssEarly = 0;
      while (!ended && (await scheduled()) < SOAK_TICKS && Date.now() - started < SOAK_BUDGET_MS) {
        await new Promise((r) => setTimeout(r, 1200 + Math.random() * 1200));
        const [name, kind] = kinds[Math.floor(Math.random() * kinds.length)]!;
        await live.get(name)!.kill('SIGKILL');
        kills++;
        start(name, kind);
        if (!rssEarly && (await scheduled()) >= 20) rssEarly = rssMb(longLived.pid);
      }
      const ticks = await scheduled();
      expect(ticks).toBeGreaterThanOrEqual(SOAK_TICKS);
      const rssLate = rssMb(longLived.pid);

      // Stop new ticks (the scheduler plans them), then let every planned batch settle.
      await live.get('scheduler')!.kill('SIGTERM');
      const unsettled = async () =>
        (
          await scenario.db.pool.query(
            "select count(*)::int as n from pipeline.pipeline_batches where status not in ('loaded', 'failed', 'superseded')",
          )
        ).rows[0].n as number;
      await waitFor('every planned batch to settle', async () => (await unsettled()) === 0, SETTLE_MS, 500);

      const failedWithoutReason = await scenario.db.pool.query(
        "select count(*)::int as n from pipeline.pipeline_batches where status = 'failed' and coalesce(error, '') = ''",
      );
      expect(failedWithoutReason.rows[0].n).toBe(0);
      // A batch whose fetch had not started when the next tick was planned (its workers killed) is
      // superseded by that tick, which names itself (producers/tick/supersede-batches.ts).
      const supersededWithoutNewerRun = await scenario.db.pool.query(
        `select count(*)::int as n from pipeline.pipeline_batches b
          where b.status = 'superseded'
            and not exists (select 1 from pipeline.pipeline_runs s join pipeline.pipeline_runs r on r.run_id = b.run_id
                             where s.run_id = b.superseded_by and s.started_at > r.started_at)`,
      );
      expect(supersededWithoutNewerRun.rows[0].n).toBe(0);
      const mismatched = await scenario.db.pool.query(`
      select r.run_id, r.rows_loaded, coalesce(s.n, 0) as actual, r.batches_loaded, b.loaded
        from pipeline.pipeline_runs r
        left join (select run_id, count(*)::int as n from raw.coin_market_snapshots group by run_id) s using (run_id)
        left join (select run_id, count(*) filter (where status = 'loaded')::int as loaded from pipeline.pipeline_batches group by run_id) b using (run_id)
       where r.rows_loaded <> coalesce(s.n, 0) or r.batches_loaded <> b.loaded`);
      expect(mismatched.rows).toEqual([]);
      const duplicates = await scenario.db.pool.query(
        'select count(*) - count(distinct (coin_id, vs_currency, last_updated)) as n from raw.coin_market_snapshots',
      );
      expect(Number(duplicates.rows[0].n)).toBe(0);
      const loaded = await scenario.db.pool.query(
        "select count(*)::int as n from pipeline.pipeline_batches where status = 'loaded'",
      );
      expect(loaded.rows[0].n).toBeGreaterThan(0);
      expect(kills).toBeGreaterThanOrEqual(20);
      // A long-lived process does not keep growing over ~80 ticks of work.
      expect(rssLate - rssEarly).toBeLessThan(60);
      process.stderr.write(
        `soak: ${ticks} ticks, ${kills} kills, loaded batches ${loaded.rows[0].n}, long-lived fetch RSS ${rssEarly.toFixed(0)} → ${rssLate.toFixed(0)} MB\n`,
      );
      // Its own budgets (the ticks' loop, then the settling) bound it, not jest's default of 120 s,
      // which a loaded machine's ~110 s soak could pass (CI did, at 129 s).
    },
    SOAK_BUDGET_MS + SETTLE_MS + 40_000,
  );
});

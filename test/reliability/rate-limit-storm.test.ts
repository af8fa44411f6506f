import type { FaultSettings } from '../../simulator/options.js';
import { enqueueTick } from '../../producers/tick/enqueue-tick.js';
import { testEnv } from '../helpers/config.js';
import { busiestWindow } from '../helpers/busiest-window.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { leavesActive, queueEvents, type QueueEvent } from '../helpers/queue-events.js';
import { PipelineProcess } from '../helpers/processes.js';
import { allJobs, createScenario, runRow } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

const STORM_MS = 40_000;
const COINS = 200;
const BATCHES = 8;
const CONCURRENCY = 4;
/** Every /coins/markets call is answered 429 until the storm ends (far more than it can use). */
const ALWAYS = 1_000_000;

interface Variant {
  readonly name: string;
  /** Simulator settings that make every call a 429 carrying the headers under test. */
  readonly storm: Partial<FaultSettings>;
  readonly env: Record<string, string>;
  /** How the pause is decided: a fixed wait, or "until the rate window ends". */
  readonly pause: { fixedMs: number } | { windowMs: number };
}

const VARIANTS: Variant[] = [
  {
    name: 'with Retry-After',
    storm: { failNext: [{ count: ALWAYS, kind: '429', retryAfterSec: 3, path: '/coins/markets' }] },
    env: {},
    pause: { fixedMs: 3000 },
  },
  {
    // The rate limiter only adds x-ratelimit-* headers here (its limit is never reached); the 429s
    // themselves come from failNext without a retry-after, so x-ratelimit-reset is all there is.
    name: 'without Retry-After, with x-ratelimit-reset',
    storm: {
      rateLimit: ALWAYS,
      rateWindowMs: 4000,
      retryAfter: false,
      failNext: [{ count: ALWAYS, kind: '429', path: '/coins/markets' }],
    },
    env: {},
    pause: { windowMs: 4000 },
  },
  {
    name: 'with neither header (COINGECKO_RATE_LIMIT_WAIT)',
    storm: { failNext: [{ count: ALWAYS, kind: 'throttled-text', path: '/coins/markets' }] },
    env: { COINGECKO_RATE_LIMIT_WAIT: '3s' },
    pause: { fixedMs: 3000 },
  },
];

/** `cdp_coingecko_requests_total` by status for /coins/markets, from a Prometheus text exposition. */
function marketsCallsByStatus(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^cdp_coingecko_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.endpoint === '/coins/markets') out[labels.status!] = Number(match[2]);
  }
  return out;
}

/**
 * 40 s in which CoinGecko answers every /coins/markets call with 429, in the three ways it can say
 * how long to wait. The three storms run side by side (each has its own simulator, database, prefix
 * and fetch process, whose /metrics is its own). In each: the fetch queue pauses as told, so calls
 * come in rounds of at most FETCH_CONCURRENCY per pause; no attempt is used and no batch fails; the
 * 429s are counted in the metric; and when the storm ends the tick loads every coin exactly once.
 */
describe('a long storm of 429s', () => {
  it.concurrent.each(VARIANTS)(
    '$name: waits it out without hammering, then loads every coin once',
    async (variant) => {
      const scenario = await createScenario({ coins: 400, stepMs: 200 });
      const coinIds = scenario.simulator.control.universeIds().slice(0, COINS);
      const overrides = {
        COIN_IDS: coinIds.join(','),
        COINGECKO_MAX_IDS_PER_CALL: String(COINS / BATCHES),
        FETCH_CONCURRENCY: String(CONCURRENCY),
        FETCH_ATTEMPTS: '3',
        ...variant.env,
      };
      const pipeline = await new InProcessPipeline(scenario.config(overrides)).start(['planner', 'load']);
      const fetchProcess = new PipelineProcess('fetch', {
        ...testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url }),
        ...overrides,
        LOG_LEVEL: 'info',
        METRICS_ENABLED: 'true',
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
      });
      try {
        await fetchProcess.waitForLog('metrics endpoint listening');
        await fetchProcess.waitForLog('fetch worker started');
        const metricsPort = fetchProcess.logs().find((l) => l.message === 'metrics endpoint listening')!.port as number;

        const stormStart = Date.now();
        scenario.simulator.control.setFaults(variant.storm);
        const runId = await enqueueTick(pipeline.runtime);
        await new Promise((r) => setTimeout(r, STORM_MS / 2));
        // Mid-storm: nothing fetched, nothing failed, the run still waiting.
        expect(await runRow(scenario.db, runId)).toMatchObject({
          finished_at: null,
          batches_fetched: 0,
          batches_failed: 0,
        });
        expect((await pipeline.runtime.queue('fetch').getJobs(['failed'])).length).toBe(0);
        await new Promise((r) => setTimeout(r, stormStart + STORM_MS - Date.now()));
        const stormCalls = scenario.simulator.control.requests(stormStart).filter((c) => c.path === '/coins/markets');
        // The only way to drop the (deliberately inexhaustible) failNext queue: back to the start
        // settings. Everything the storm did is in stormCalls by now.
        scenario.simulator.control.reset();
        const stormEnd = Date.now();

        const run = await waitFor(
          `run ${runId} to finish`,
          async () => {
            const row = await runRow(scenario.db, runId);
            return row?.finished_at ? row : undefined;
          },
          30_000,
          100,
        );
        const recoveredAfterMs = (run.finished_at as Date).getTime() - stormEnd;

        // Every call during the storm was a 429, and the pause held: calls came in rounds of at most
        // one per fetch slot, each round a full pause after the one before.
        expect(stormCalls.length).toBeGreaterThan(0);
        expect(stormCalls.filter((c) => c.status !== 429)).toEqual([]);
        const times = stormCalls.map((c) => c.t);
        // Checked on the fetch queue's own record, its event stream in the order Redis applied it (not
        // on when concurrent calls happened to land): a job handed back by its 429 had set the pause
        // after it started, so no job may start after that hand-back before the pause, counted from
        // that start, is over; and a round (the starts between two jobs leaving active: a hand-back, or
        // after the storm a completion) has one per slot at most.
        const pauseEnd = (start: number) =>
          'fixedMs' in variant.pause
            ? start + variant.pause.fixedMs
            : (Math.floor(start / variant.pause.windowMs) + 1) * variant.pause.windowMs;
        const events = (await queueEvents(pipeline.runtime.redis, pipeline.runtime.queue('fetch'))).filter((e) =>
          e.jobId?.startsWith(`fetch-${runId}-`),
        );
        const startedAt = new Map<string, number>();
        const early: string[] = [];
        const rounds: { afterPause: boolean; starts: QueueEvent[] }[] = [];
        let resumeAt = Number.NEGATIVE_INFINITY;
        let slotFreed: 'no' | 'by a hand-back' | 'by a completion' = 'by a completion';
        for (const event of events) {
          if (event.event === 'active') {
            if (event.at < resumeAt)
              early.push(`${event.jobId} started ${resumeAt - event.at} ms before the pause was over`);
            if (slotFreed !== 'no') rounds.push({ afterPause: slotFreed === 'by a hand-back', starts: [] });
            slotFreed = 'no';
            rounds.at(-1)!.starts.push(event);
            startedAt.set(event.jobId!, event.at);
          } else if (event.event === 'waiting' && event.prev === 'active') {
            resumeAt = Math.max(resumeAt, pauseEnd(startedAt.get(event.jobId!)!));
            slotFreed = 'by a hand-back';
          } else if (leavesActive(event) && slotFreed === 'no') {
            slotFreed = 'by a completion';
          }
        }
        expect(early).toEqual([]);
        expect(rounds.filter((round) => round.afterPause).length).toBeGreaterThan(1);
        expect(rounds.filter((round) => round.starts.length > CONCURRENCY)).toEqual([]);
        if ('fixedMs' in variant.pause) {
          expect(stormCalls.length).toBeLessThanOrEqual(
            (Math.floor(STORM_MS / variant.pause.fixedMs) + 1) * CONCURRENCY,
          );
        } else {
          // Paused until the window's end, and no longer: each round after a pause starts just after a boundary.
          const { windowMs } = variant.pause;
          expect(
            rounds
              .filter((round) => round.afterPause)
              .map((round) => round.starts[0]!.at % windowMs)
              .filter((offset) => offset > 1000),
          ).toEqual([]);
          expect(stormCalls.length).toBeLessThanOrEqual((Math.floor(STORM_MS / windowMs) + 2) * CONCURRENCY);
        }

        // Afterwards: each batch fetched once, on its first attempt, and the run loaded every coin once.
        const served = scenario.simulator.control.requests(0).filter((c) => c.path === '/coins/markets');
        expect(served.map((c) => c.status)).toEqual(Array(BATCHES).fill(200));
        const fetches = (await allJobs(pipeline.runtime, 'fetch')).filter((j) => j.id!.startsWith(`fetch-${runId}-`));
        expect(fetches).toHaveLength(BATCHES);
        for (const job of fetches) {
          expect(await job.getState()).toBe('completed');
          expect(job.attemptsMade).toBe(1);
        }
        expect(run).toMatchObject({
          status: 'loaded',
          batches_loaded: BATCHES,
          batches_failed: 0,
          rows_loaded: COINS,
          rows_duplicate: 0,
        });
        const rows = await scenario.db.pool.query<{ coin_id: string }>(
          'select coin_id from raw.coin_market_snapshots where run_id = $1 order by coin_id',
          [runId],
        );
        expect(rows.rows.map((r) => r.coin_id)).toEqual([...coinIds].sort());
        const duplicates = await scenario.db.pool.query(
          'select count(*) - count(distinct (coin_id, vs_currency, last_updated)) as n from raw.coin_market_snapshots',
        );
        expect(Number(duplicates.rows[0].n)).toBe(0);
        // The wait after the storm is one pause at most, not a fallback minute.
        const longestPause = 'fixedMs' in variant.pause ? variant.pause.fixedMs : variant.pause.windowMs;
        expect(recoveredAfterMs).toBeLessThan(longestPause + 3000);

        // The fetch process counted exactly what the simulator saw.
        const metrics = marketsCallsByStatus(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
        expect(metrics).toEqual({ '200': BATCHES, '429': stormCalls.length });

        process.stderr.write(
          `429 storm ${variant.name}: ${stormCalls.length} calls in ${STORM_MS / 1000}s (busiest 1s: ${busiestWindow(times, 1000)}), ` +
            `loaded ${recoveredAfterMs} ms after it ended\n`,
        );
      } finally {
        await fetchProcess.kill();
        await pipeline.stop();
        await scenario.teardown();
      }
    },
    STORM_MS + 60_000,
  );
});

/**
 * A 429 whose wait works out at zero: `Retry-After: 0`, or an x-ratelimit-reset that our clock
 * already passed (clock skew, one-second resolution). It is still a 429: pause, use no attempt.
 */
describe('a 429 that asks for no wait at all', () => {
  it('pauses anyway and uses no attempt', async () => {
    const scenario = await createScenario({ coins: 400, stepMs: 200 });
    const coinIds = scenario.simulator.control.universeIds().slice(0, 50);
    const pipeline = await new InProcessPipeline(
      scenario.config({ COIN_IDS: coinIds.join(','), COINGECKO_MAX_IDS_PER_CALL: '25', FETCH_ATTEMPTS: '2' }),
    ).start(['planner', 'fetch', 'load']);
    try {
      scenario.simulator.control.setFaults({
        failNext: [{ count: 6, kind: '429', retryAfterSec: 0, path: '/coins/markets' }],
      });
      const runId = await enqueueTick(pipeline.runtime);
      const run = await waitFor(
        `run ${runId} to finish`,
        async () => {
          const row = await runRow(scenario.db, runId);
          return row?.finished_at ? row : undefined;
        },
        30_000,
        100,
      );
      expect(run).toMatchObject({ status: 'loaded', batches_failed: 0, rows_loaded: 50 });
      const fetches = (await allJobs(pipeline.runtime, 'fetch')).filter((j) => j.id!.startsWith(`fetch-${runId}-`));
      expect(fetches.map((j) => j.attemptsMade)).toEqual([1, 1]);
      expect(scenario.simulator.control.stats().byStatus).toEqual({ '200': 2, '429': 6 });
    } finally {
      await pipeline.stop();
      await scenario.teardown();
    }
  });
});

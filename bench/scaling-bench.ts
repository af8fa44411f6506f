import { enqueueTick, enqueueUniverseRefresh } from '../producers/tick/enqueue-tick.js';
import { jobIds } from '../core/queues/registry.js';
import { startSimulator } from '../simulator/server.js';
import type { Benchmark, Measurement } from './benchmark.js';
import { benchRuntime, pipelineEnv } from './pipeline-env.js';
import { PipelineProcess } from './pipeline-process.js';
import { median, sleep, waitFor } from './stats.js';

const COINS = 15_000;
const TICKS = 3;
const PROCESS_COUNTS = [1, 2, 4] as const;

/**
 * Tick throughput (coins per second through fetch + load) with 1, 2 and 4 fetch and 4 load
 * processes against an unthrottled simulator, as a speed-up over 1 process of each. On this 2-core
 * machine the simulator, Postgres, Redis and the workers share the cores, so the curve flattens
 * early; on separate machines the fetch side scales until the API's rate limit.
 */
export const scalingBenchmark: Benchmark = {
  name: 'scaling',
  description: `coins/s through fetch+load for ${PROCESS_COUNTS.join(', ')} fetch and load processes (${COINS} coins, unthrottled simulator)`,
  budgetMs: 300_000,
  async run(ctx) {
    const db = await ctx.database();
    const simulator = await startSimulator({ coins: COINS, stepMs: 1000 });
    ctx.defer(() => simulator.close());
    const throughput = new Map<number, number>();
    for (const n of PROCESS_COUNTS) {
      const prefix = ctx.prefix();
      const env = pipelineEnv({
        databaseUrl: db.url,
        prefix,
        coingeckoUrl: simulator.url,
        env: {
          TRACK_TOP_N: String(COINS),
          SCHEDULE_ENABLED: 'false',
          COINGECKO_RATE_LIMIT_PER_MIN: '0',
          TRANSFORM_RUNNER: 'none',
        },
      });
      const { runtime } = benchRuntime(env);
      const processes = [
        new PipelineProcess('scheduler', env),
        ...Array.from({ length: n }, () => new PipelineProcess('fetch', env)),
        ...Array.from({ length: n }, () => new PipelineProcess('load', env)),
      ];
      try {
        await Promise.all(
          processes.map((p) => p.waitForLog(p.kind === 'scheduler' ? 'scheduler started' : `${p.kind} worker started`)),
        );
        const refreshId = await enqueueUniverseRefresh(runtime);
        await waitFor(
          'universe refresh',
          async () =>
            (await (await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId)))?.getState()) ===
            'completed',
          60_000,
          ctx.signal,
          100,
        );
        const seconds: number[] = [];
        for (let i = 0; i < TICKS + 1; i++) {
          await sleep(1100, ctx.signal); // a new simulator step: every coin has a new row
          const runId = await enqueueTick(runtime);
          const run = await waitFor(
            `run ${runId}`,
            async () => {
              const row = (
                await runtime.pool.query<{ started_at: Date; finished_at: Date | null; rows_loaded: number }>(
                  'select started_at, finished_at, rows_loaded from pipeline.pipeline_runs where run_id = $1',
                  [runId],
                )
              ).rows[0];
              return row?.finished_at ? row : undefined;
            },
            60_000,
            ctx.signal,
            20,
          );
          const s = (run.finished_at!.getTime() - run.started_at.getTime()) / 1000;
          ctx.log(
            `${n} fetch + ${n} load: tick ${runId} ${s.toFixed(2)} s, ${run.rows_loaded} rows${i === 0 ? ' (warm-up)' : ''}`,
          );
          if (i > 0) seconds.push(s);
        }
        throughput.set(n, COINS / median(seconds));
      } finally {
        await Promise.all(processes.map((p) => p.stop()));
        await runtime.close();
      }
    }
    const one = throughput.get(1)!;
    return PROCESS_COUNTS.map((n): Measurement => ({
      metric: `coins/s through fetch+load, ${n} fetch + ${n} load process${n > 1 ? 'es' : ''} (median of ${TICKS})`,
      value: throughput.get(n)!,
      unit: 'coins/s',
      reference: '1 fetch + 1 load process',
      referenceValue: one,
    }));
  },
};

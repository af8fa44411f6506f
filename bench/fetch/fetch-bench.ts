import { buildJob } from '../../core/queues/build-job.js';
import { jobIds, type PayloadOf } from '../../core/queues/registry.js';
import { startSimulator } from '../../simulator/server.js';
import type { Benchmark, BenchContext, Measurement } from '../benchmark.js';
import { benchRuntime, pipelineEnv } from '../pipeline-env.js';
import { PipelineProcess } from '../pipeline-process.js';
import { sleep } from '../stats.js';

const LIMIT_PER_MIN = 300;
const WINDOW_MS = 60_000;
/** More jobs than one window allows, so the workers never run dry. */
const JOBS = 420;
/** Ids per call: the rate counts calls, so small bodies keep Redis light without changing what is measured. */
const IDS_PER_CALL = 50;

interface WindowCount {
  readonly served: number;
  readonly throttled: number;
  readonly throttledTotal: number;
}

/**
 * One configuration: `processes` fetch processes share the limit against a simulator enforcing
 * LIMIT_PER_MIN per fixed window. The simulator's clock is shifted so one of its windows opens the
 * moment the jobs are queued; exactly that whole window is counted.
 */
async function measureWindow(ctx: BenchContext, processes: number): Promise<WindowCount> {
  const db = await ctx.database();
  const prefix = ctx.prefix();
  let offsetMs = 0;
  const simulator = await startSimulator({
    coins: 2000,
    rateLimit: LIMIT_PER_MIN,
    rateWindowMs: WINDOW_MS,
    clock: () => Date.now() + offsetMs,
  });
  ctx.defer(() => simulator.close());
  const env = pipelineEnv({
    databaseUrl: db.url,
    prefix,
    coingeckoUrl: simulator.url,
    env: { COINGECKO_RATE_LIMIT_PER_MIN: String(LIMIT_PER_MIN) },
  });
  const { runtime } = benchRuntime(env);
  ctx.defer(() => runtime.close());
  const fetchers = Array.from({ length: processes }, () => new PipelineProcess('fetch', env));
  ctx.defer(() => Promise.all(fetchers.map((f) => f.stop())));
  await Promise.all(fetchers.map((f) => f.waitForLog('fetch worker started')));

  const ids = simulator.control.universeIds();
  const jobs = Array.from({ length: JOBS }, (_, batchNo) => {
    const data: PayloadOf<'fetch'> = {
      runId: `f${processes}x`,
      batchNo,
      request: {
        endpoint: 'markets',
        vsCurrency: 'usd',
        ids: ids.slice((batchNo * IDS_PER_CALL) % ids.length, ((batchNo * IDS_PER_CALL) % ids.length) + IDS_PER_CALL),
      },
    };
    return buildJob('fetch', runtime.config, { data, jobId: jobIds.fetch(data.runId, batchNo) });
  });

  const startAt = Date.now() + 300;
  offsetMs = (WINDOW_MS - (startAt % WINDOW_MS)) % WINDOW_MS; // simulator time at startAt = a window boundary
  const windowStart = startAt + offsetMs;
  await sleep(startAt - Date.now(), ctx.signal);
  await runtime.queue('fetch').addBulk(jobs);
  ctx.log(`${processes} process(es): ${JOBS} jobs queued; counting one ${WINDOW_MS / 1000}s simulator window`);
  // The window, plus a little for calls that arrived in it to be logged.
  await sleep(startAt + WINDOW_MS + 500 - Date.now(), ctx.signal);
  await runtime.queue('fetch').pause();
  await Promise.all(fetchers.map((f) => f.stop()));

  const all = simulator.control.requests(0).filter((r) => r.path === '/coins/markets');
  const inWindow = all.filter((r) => r.t >= windowStart && r.t < windowStart + WINDOW_MS);
  const count = {
    served: inWindow.filter((r) => r.status === 200).length,
    throttled: inWindow.filter((r) => r.status === 429).length,
    throttledTotal: all.filter((r) => r.status === 429).length,
  };
  ctx.log(
    `${processes} process(es): ${count.served} calls served in the window, ${count.throttled} throttled (${count.throttledTotal} overall)`,
  );
  return count;
}

export const fetchBenchmark: Benchmark = {
  name: 'fetch',
  description: `calls per ${WINDOW_MS / 1000}s simulator window vs the ${LIMIT_PER_MIN}/min allowance, with 1 and 3 fetch processes; 429s`,
  budgetMs: 180_000,
  async run(ctx) {
    const out: Measurement[] = [];
    for (const processes of [1, 3]) {
      const count = await measureWindow(ctx, processes);
      const label = `${processes} fetch process${processes > 1 ? 'es' : ''}`;
      out.push(
        {
          metric: `calls served per window, ${label}`,
          value: count.served,
          unit: 'calls/min',
          reference: 'allowed per window',
          referenceValue: LIMIT_PER_MIN,
        },
        {
          metric: `HTTP 429s in the window, ${label}`,
          value: count.throttled,
          unit: 'responses',
          reference: 'allowed 429s',
          referenceValue: 0,
        },
      );
    }
    return out;
  },
};

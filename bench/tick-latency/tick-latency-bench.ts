import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { enqueueTick, enqueueUniverseRefresh } from '../../producers/tick/enqueue-tick.js';
import { jobIds } from '../../core/queues/registry.js';
import { startSimulator } from '../../simulator/server.js';
import type { Benchmark, Measurement } from '../benchmark.js';
import { benchRuntime, pipelineEnv } from '../pipeline-env.js';
import { PipelineProcess, type ProcessKind } from '../pipeline-process.js';
import { RssSampler } from '../rss-sampler.js';
import { median, sleep, waitFor } from '../stats.js';
import { runBaseline, type BaselineTiming } from './baseline-run.js';
import { STAGES, tickTimeline, totalMs, type TickTimeline } from './job-timeline.js';

const COINS = 15_000;
const WARMUP_TICKS = 1;
const TICKS = 5;
const BASELINE_RUNS = 5;
const TARGET_MS = 5000;
const RSS_TARGET_MB = 200;
/** Real processes, as deployed: one scheduler (planning only), two fetch, two load, one transform. */
const TOPOLOGY: readonly [ProcessKind, number, string][] = [
  ['scheduler', 1, 'scheduler started'],
  ['fetch', 2, 'fetch worker started'],
  ['load', 2, 'load worker started'],
  ['transform', 1, 'transform worker started'],
];

export const tickLatencyBenchmark: Benchmark = {
  name: 'tick-latency',
  description: `tick added → transform job settled for ${COINS} coins with real processes (1 scheduler, 2 fetch, 2 load, 1 transform) vs a single-process script; peak RSS per process kind`,
  budgetMs: 240_000,
  reports: ['memory'],
  async run(ctx) {
    const db = await ctx.database();
    const prefix = ctx.prefix();
    // A new market step every second, so every tick loads fresh rows.
    const simulator = await startSimulator({ coins: COINS, stepMs: 1000 });
    ctx.defer(() => simulator.close());
    const env = pipelineEnv({
      databaseUrl: db.url,
      prefix,
      coingeckoUrl: simulator.url,
      env: { TRACK_TOP_N: String(COINS), SCHEDULE_ENABLED: 'false', COINGECKO_RATE_LIMIT_PER_MIN: '0' },
    });
    const { runtime } = benchRuntime(env);
    ctx.defer(() => runtime.close());

    const processes = TOPOLOGY.flatMap(([kind, count]) =>
      Array.from({ length: count }, () => new PipelineProcess(kind, env)),
    );
    ctx.defer(() => Promise.all(processes.map((p) => p.stop())));
    const rss = new RssSampler(() => processes.map((p) => p.pid), 100);
    ctx.defer(() => rss.stop());
    await Promise.all(processes.map((p) => p.waitForLog(TOPOLOGY.find(([kind]) => kind === p.kind)![2])));

    const refreshId = await enqueueUniverseRefresh(runtime);
    await waitFor(
      'universe refresh',
      async () => {
        const job = await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId));
        const state = await job?.getState();
        if (state === 'failed') throw new Error(`universe refresh failed: ${job?.failedReason}`);
        return state === 'completed';
      },
      60_000,
      ctx.signal,
      100,
    );
    ctx.log('universe refreshed; ticking');

    const timelines: TickTimeline[] = [];
    for (let i = 0; i < WARMUP_TICKS + TICKS; i++) {
      await sleep(1100, ctx.signal); // the next simulator step
      const runId = await enqueueTick(runtime);
      await waitFor(
        `transform of ${runId}`,
        async () => {
          const state = await (await runtime.queue('transform').getJob(jobIds.transform(runId)))?.getState();
          return state === 'completed' || state === 'failed';
        },
        60_000,
        ctx.signal,
        20,
      );
      const timeline = await tickTimeline(runtime, runId);
      const rows = await runRows(db.url, runId);
      ctx.log(
        `${i < WARMUP_TICKS ? 'warm-up ' : ''}tick ${runId}: ${totalMs(timeline)} ms, ${timeline.batches} batches, ${rows} rows; ` +
          STAGES.map(([name, f]) => `${name.split(' ')[0]} ${f(timeline)}`).join(', '),
      );
      if (i >= WARMUP_TICKS) timelines.push(timeline);
    }
    rss.stop();

    // The script the pipeline replaces, against the same simulator and ids, with the workers idle.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cdp-bench-tick-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const baselines: BaselineTiming[] = [];
    for (let i = 0; i < BASELINE_RUNS; i++) {
      ctx.signal.throwIfAborted();
      const timing = await runBaseline({
        apiUrl: simulator.url,
        databaseUrl: db.url,
        idsFile: path.join(dir, 'ids.txt'),
        ids: simulator.control.universeIds(),
      });
      ctx.log(
        `baseline script: ${Math.round(timing.totalMs)} ms (fetch ${Math.round(timing.fetchMs)}, insert ${Math.round(timing.insertMs)}), ${timing.rows} rows`,
      );
      baselines.push(timing);
    }

    const total = median(timelines.map(totalMs));
    const baseline = median(baselines.map((b) => b.totalMs));
    const out: Measurement[] = [
      {
        metric: `tick added → transform settled, median of ${TICKS}`,
        value: total,
        unit: 'ms',
        reference: `baseline script, median of ${BASELINE_RUNS}`,
        referenceValue: baseline,
      },
      {
        metric: `tick added → transform settled, median of ${TICKS}`,
        value: total,
        unit: 'ms',
        reference: 'target',
        referenceValue: TARGET_MS,
      },
      ...STAGES.map(([name, f]): Measurement => ({
        metric: `stage: ${name}`,
        value: median(timelines.map(f)),
        unit: 'ms',
        reference: 'tick total (median)',
        referenceValue: total,
      })),
      {
        metric: 'baseline: fetch all, then insert (median)',
        value: baseline,
        unit: 'ms',
        reference: 'target',
        referenceValue: TARGET_MS,
      },
    ];
    for (const [kind, count] of TOPOLOGY) {
      const peak = Math.max(...processes.filter((p) => p.kind === kind).map((p) => rss.peakMB(p.pid)));
      out.push({
        benchmark: 'memory',
        metric: `peak RSS, ${kind} (max of ${count})`,
        value: peak,
        unit: 'MB',
        reference: 'target',
        referenceValue: RSS_TARGET_MB,
      });
    }
    return out;
  },
};

async function runRows(url: string, runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ rows_loaded: number }>(
      'select rows_loaded::int from pipeline.pipeline_runs where run_id = $1',
      [runId],
    );
    return result.rows[0]?.rows_loaded ?? -1;
  } finally {
    await client.end();
  }
}

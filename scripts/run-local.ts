/**
 * Runs the whole pipeline on this machine without Docker: the simulator (unless COINGECKO_BASE_URL
 * points elsewhere), N scheduler/fetch/load/transform processes and the dashboard, each a real
 * process as in production. Prints one progress line per tick; --once runs a single tick end to end
 * and exits 0 when it loaded (1 otherwise). `make demo` calls this.
 *
 *   node dist/scripts/run-local.js --fetch 4 --load 2 --transform 2 [--scheduler 1] [--once] [--verbose]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { environmentWithDotenv } from '../core/config/index.js';
import { configureLogger } from '../core/log/logger.js';
import { loadConfigOrExit } from '../core/process/boot.js';
import { jobIds } from '../core/queues/registry.js';
import { Runtime } from '../core/runtime.js';
import { enqueueTick, enqueueUniverseRefresh } from '../producers/tick/enqueue-tick.js';
import { ENTRY_POINTS, NODE_FLAGS, type ProcessKind as Kind } from './lib/entry-points.js';
import { printRunLine, type RunLine } from './run-local/progress.js';

const ROOT = process.cwd();

const { values: args } = parseArgs({
  options: {
    fetch: { type: 'string', default: '2' },
    load: { type: 'string', default: '2' },
    transform: { type: 'string', default: '1' },
    scheduler: { type: 'string', default: '1' },
    once: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    'logs-dir': { type: 'string', default: join(ROOT, '.local-logs') },
  },
});
const count = (name: string, text: string | undefined, min: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 64) {
    process.stderr.write(`run-local: --${name} must be an integer from ${min} to 64, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
};
const counts: Record<Exclude<Kind, 'simulator' | 'dashboard'>, number> = {
  fetch: count('fetch', args.fetch, 1),
  load: count('load', args.load, 1),
  transform: count('transform', args.transform, 1),
  scheduler: count('scheduler', args.scheduler, 1),
};

// Local defaults: the simulator, unthrottled, all 15,000 coins, a tick every 15 s. Anything set in
// the environment or .env wins, e.g. COINGECKO_BASE_URL + COINGECKO_PLAN + COINGECKO_API_KEY for the real API.
const SIMULATOR_PORT = '8484';
const given = environmentWithDotenv();
const useSimulator = !given.COINGECKO_BASE_URL || /\/\/(127\.0\.0\.1|localhost):8484\b/.test(given.COINGECKO_BASE_URL);
const env: Record<string, string> = Object.fromEntries(
  Object.entries({
    COINGECKO_BASE_URL: `http://127.0.0.1:${SIMULATOR_PORT}/api/v3`,
    COINGECKO_RATE_LIMIT_PER_MIN: useSimulator ? '0' : undefined,
    TRACK_TOP_N: useSimulator ? '15000' : undefined,
    // A week of hourly history for every simulated coin (15,000 calls, ~2.5M points) in the demo's first minutes.
    BACKFILL_DAYS: useSimulator ? '7' : undefined,
    TICK_INTERVAL: '15s',
    UNIVERSE_REFRESH_INTERVAL: '1h',
    ...given,
    // A single tick must not share queues with a scheduler left in Redis by an earlier continuous
    // run (job schedulers persist): --once works under its own prefix unless one is given.
    // Nor start a backfill it would not wait for.
    ...(args.once
      ? {
          SCHEDULE_ENABLED: 'false',
          QUEUE_PREFIX: given.QUEUE_PREFIX ?? 'cdp-once',
          BACKFILL_DAYS: given.BACKFILL_DAYS ?? '0',
        }
      : {}),
  }).filter((entry): entry is [string, string] => entry[1] !== undefined),
);
// A bad setting: the list of problems and exit 78, as every process it would start does.
const config = loadConfigOrExit('run-local', env);
const runtime = new Runtime(config, configureLogger({ level: 'warn', service: 'run-local', secrets: [] }), 'run-local');

mkdirSync(args['logs-dir'], { recursive: true });
const children: { kind: Kind; index: number; child: ChildProcess }[] = [];
let stopping = false;

function start(kind: Kind, index: number, extra: Record<string, string> = {}): void {
  const name = `${kind}-${index}`;
  const log = createWriteStream(join(args['logs-dir'], `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [...NODE_FLAGS[kind], join(ROOT, ENTRY_POINTS[kind])], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.pipe(log, { end: false });
    if (args.verbose) stream.on('data', (chunk: Buffer) => process.stdout.write(prefixLines(name, chunk.toString())));
    else stream.on('data', (chunk: Buffer) => echoProblems(name, chunk.toString()));
  }
  child.on('exit', (code, signal) => {
    log.end();
    if (!stopping) {
      process.stderr.write(
        `run-local: ${name} exited (${signal ?? `code ${code}`}); see ${join(args['logs-dir'], `${name}.log`)}\n`,
      );
      void shutdown(1);
    }
  });
  children.push({ kind, index, child });
}

function prefixLines(name: string, text: string): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => `[${name}] ${line}\n`)
    .join('');
}

/** Without --verbose only warnings and errors of the processes reach the terminal. */
function echoProblems(name: string, text: string): void {
  for (const line of text.split('\n').filter(Boolean)) {
    try {
      const entry = JSON.parse(line) as { level?: string; message?: string; reason?: string };
      if (entry.level === 'error')
        process.stderr.write(`[${name}] ${entry.level}: ${entry.message}${entry.reason ? ` (${entry.reason})` : ''}\n`);
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
    }
  }
}

async function shutdown(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), config.jobs.shutdownTimeoutMs + 5000).unref();
        }),
    ),
  );
  await runtime.close();
  process.exit(code);
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

if (useSimulator) {
  start('simulator', 1, { SIM_PORT: SIMULATOR_PORT });
  await waitForHttp(`http://127.0.0.1:${SIMULATOR_PORT}/api/v3/ping`, 15_000);
}
let metricsPort = config.metrics.port;
const nextMetricsPort = () => String(metricsPort === 0 ? 0 : metricsPort++);
for (const kind of ['scheduler', 'fetch', 'load', 'transform'] as const) {
  for (let i = 1; i <= counts[kind]; i++) start(kind, i, { METRICS_PORT: nextMetricsPort() });
}
start('dashboard', 1, { METRICS_ENABLED: 'false' });
await waitForHttp(`http://127.0.0.1:${config.dashboard.port}/healthz`, 20_000);

const processes = Object.entries(counts)
  .map(([kind, n]) => `${n} ${kind}`)
  .join(', ');
process.stdout.write(
  [
    `crypto-data-pipeline running locally (${processes}${useSimulator ? ', simulator' : ''}; logs in ${args['logs-dir']})`,
    `  dashboard   http://127.0.0.1:${config.dashboard.port}/`,
    `  bull board  http://127.0.0.1:${config.dashboard.port}/queues`,
    `  metrics     http://127.0.0.1:${config.dashboard.port}/metrics (and ports ${config.metrics.port}.. per process)`,
    useSimulator
      ? `  coingecko   simulator at http://127.0.0.1:${SIMULATOR_PORT}/api/v3 (${env.TRACK_TOP_N} coins tracked)`
      : `  coingecko   ${config.coingecko.baseUrl}`,
    args.once
      ? '  mode        one tick, then exit'
      : `  ticks       every ${env.TICK_INTERVAL}; Ctrl-C stops everything`,
    '',
  ].join('\n'),
);

const printed = new Set<string>();
async function report(): Promise<RunLine[]> {
  const result = await runtime.pool.query<RunLine>(
    `select run_id, trigger, status, batches_planned, batches_fetched, batches_loaded, batches_failed, rows_loaded,
            rows_duplicate, records_rejected, transform_status, started_at, finished_at
       from pipeline.pipeline_runs where finished_at is not null order by started_at desc limit 20`,
  );
  const lines = result.rows.reverse();
  for (const line of lines) {
    if (printed.has(line.run_id)) continue;
    printed.add(line.run_id);
    process.stdout.write(`${printRunLine(line)}\n`);
  }
  return lines;
}

if (args.once) {
  if (!config.universe.coinIds) {
    const refreshId = await enqueueUniverseRefresh(runtime);
    for (;;) {
      const job = await runtime.queue('universe').getJob(jobIds.manualUniverse(refreshId));
      const state = await job?.getState();
      if (state === 'completed') break;
      if (state === 'failed') {
        process.stderr.write(`universe refresh failed: ${job?.failedReason}\n`);
        await shutdown(1);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const runId = await enqueueTick(runtime);
  for (;;) {
    const transform = await runtime.queue('transform').getJob(jobIds.transform(runId));
    const state = await transform?.getState();
    if (state === 'completed' || state === 'failed') {
      await new Promise((r) => setTimeout(r, 300)); // let the ledger's last write land
      const line = (await report()).find((l) => l.run_id === runId);
      const ok = line?.status === 'loaded' && (state === 'completed' || config.transform.runner === 'none');
      process.stdout.write(
        `\nsummary: run ${runId} ${line?.status ?? 'unknown'}; transform ${state}${transform?.failedReason ? `: ${transform.failedReason}` : ''}\n`,
      );
      await shutdown(ok ? 0 : 1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
setInterval(() => void report().catch(() => undefined), 1000);

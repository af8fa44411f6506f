/**
 * History from CoinGecko's market_chart/range: `npm run backfill -- --days 30 [--ids a,b | --top N]`
 * or `--from 2026-11-01 [--to 2026-11-15]`. Records a history run, enqueues one fetch job per coin and
 * range (the fetch workers do the work, behind the shared rate limit and after every tick's calls),
 * prints progress until the run ends, and a summary; `--detach` returns once the jobs are queued.
 * Re-running it fetches only what no earlier run fetched. Exit codes: 0 all done, 1 some coins failed
 * (listed) or the wait timed out, 2 bad arguments (every problem listed, nothing called).
 */
import { PLANS } from '../core/coingecko/plans.js';
import {
  failedHistoryItems,
  historyProgress,
  overlappingRunningRuns,
  type HistoryProgress,
} from '../core/history/history-ledger.js';
import { enqueueHistoryItems, startHistoryRun } from '../core/history/start-history-run.js';
import { HOUR_MS } from '../core/history/plan-history.js';
import { loadConfigOrExit } from '../core/process/boot.js';
import { configureLogger } from '../core/log/logger.js';
import { secretValues } from '../core/config/index.js';
import { Runtime } from '../core/runtime.js';
import { resolveUniverse, topRankedCoins } from '../producers/tick/resolve-universe.js';
import { BackfillArgsError, parseBackfillArgs } from './backfill/backfill-args.js';
import { formatProgress } from './backfill/progress.js';

const config = loadConfigOrExit('backfill');
let args;
try {
  args = parseBackfillArgs(process.argv.slice(2), {
    plan: config.coingecko.plan,
    historyDays: PLANS[config.coingecko.plan].historyDays,
    now: Date.now(),
  });
} catch (error) {
  if (!(error instanceof BackfillArgsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}

const logger = configureLogger({ level: 'warn', service: 'backfill', secrets: secretValues(config) });
const runtime = new Runtime(config, logger, 'backfill');
let exitCode = 0;
try {
  const coinIds =
    'ids' in args.coins
      ? [...args.coins.ids]
      : 'top' in args.coins
        ? await topRankedCoins(runtime.pool, args.coins.top)
        : await resolveUniverse(runtime.pool, config, undefined);
  if (coinIds.length === 0) {
    process.stderr.write(
      'backfill: no coins to backfill: raw.coins has no ranked coin yet (start the scheduler, or give --ids)\n',
    );
    exitCode = 1;
  } else {
    const historyRunId = `b${Date.now()}`;
    const started = await startHistoryRun(runtime, {
      historyRunId,
      kind: 'backfill',
      coinIds,
      fromMs: args.fromMs,
      toMs: args.toMs,
      minSpanMs: HOUR_MS,
      requested: { argv: process.argv.slice(2), coins: coinIds.length },
    });
    // Ranges an earlier, still running run (a killed command's) is fetching are left to it: wait for it
    // too, and re-add its jobs in case they vanished (a wiped Redis). Job ids make that idempotent.
    const others = await overlappingRunningRuns(runtime.pool, coinIds, args.fromMs, args.toMs, historyRunId);
    for (const other of others) await enqueueHistoryItems(runtime, other.historyRunId, other.kind);
    const runIds = [historyRunId, ...others.map((o) => o.historyRunId)];
    process.stdout.write(
      `backfill ${historyRunId}: ${coinIds.length} coins, ${new Date(args.fromMs).toISOString()} → ${new Date(args.toMs).toISOString()}: ` +
        `${started.items} calls queued` +
        (others.length > 0
          ? `; waiting also for ${others.map((o) => o.historyRunId).join(', ')} (already fetching part of it)`
          : '') +
        '\n',
    );
    if (!args.detach) exitCode = await follow(runIds, args.timeoutS);
  }
} finally {
  await runtime.close();
}
process.exit(exitCode);

async function follow(runIds: readonly string[], timeoutS: number): Promise<number> {
  const startedAt = Date.now();
  const first = await historyProgress(runtime.pool, runIds);
  let last: HistoryProgress = first;
  let lastLine = '';
  while (Date.now() - startedAt < timeoutS * 1000) {
    last = await historyProgress(runtime.pool, runIds);
    const line = formatProgress(first, last, Date.now() - startedAt);
    if (line !== lastLine) process.stdout.write(`${line}\n`);
    lastLine = line;
    if (last.pending === 0) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const failed = await failedHistoryItems(runtime.pool, runIds);
  process.stdout.write(
    `summary: ${last.done} of ${last.items} calls done, ${last.failed} failed, ${last.pending} pending; ` +
      `${last.rowsInserted} rows stored, ${last.pointsRejected} points quarantined, ${last.calls} calls made\n`,
  );
  for (const f of failed) process.stdout.write(`  failed ${f.coinId}: ${f.error}\n`);
  if (last.pending > 0) {
    process.stderr.write(
      `backfill: still ${last.pending} calls pending after ${timeoutS}s; the workers go on with them (are they running?)\n`,
    );
    return 1;
  }
  return last.failed > 0 ? 1 : 0;
}

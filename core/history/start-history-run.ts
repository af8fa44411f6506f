import type pg from 'pg';
import { buildJob } from '../queues/build-job.js';
import { FETCH_PRIORITY, jobIds } from '../queues/registry.js';
import type { Runtime } from '../runtime.js';
import { fetchedRanges, recordHistoryRun, type HistoryKind } from './history-ledger.js';
import { planHistoryItems } from './plan-history.js';

export interface HistoryRequest {
  readonly historyRunId: string;
  readonly kind: HistoryKind;
  readonly coinIds: readonly string[];
  readonly fromMs: number;
  readonly toMs: number;
  /** Uncovered parts shorter than this are not fetched (see planHistoryItems). */
  readonly minSpanMs: number;
  readonly requested: Record<string, unknown>;
}

export interface StartedHistoryRun {
  readonly historyRunId: string;
  /** False when a run with this id (or a first-start backfill) existed already: nothing was added. */
  readonly created: boolean;
  readonly items: number;
  readonly coins: number;
}

/**
 * Plans a history run (leaving out what earlier runs fetched), records it and its items, and adds one
 * fetch job per item. The jobs go on the fetch queue, behind its one limiter, with a priority: tick
 * calls carry none and always start first (registry.ts, FETCH_PRIORITY).
 */
export async function startHistoryRun(runtime: Runtime, request: HistoryRequest): Promise<StartedHistoryRun> {
  const { config, pool } = runtime;
  const vsCurrency = config.coingecko.vsCurrency;
  const fetched = await fetchedRanges(pool, vsCurrency, request.coinIds, request.fromMs, request.toMs);
  const items = planHistoryItems(request.coinIds, request.fromMs, request.toMs, fetched, request.minSpanMs);
  const created = await recordHistoryRun(pool, {
    historyRunId: request.historyRunId,
    kind: request.kind,
    vsCurrency,
    fromMs: request.fromMs,
    toMs: request.toMs,
    coins: request.coinIds.length,
    requested: request.requested,
    items,
  });
  if (!created) return { historyRunId: request.historyRunId, created, items: 0, coins: 0 };
  await enqueueHistoryItems(runtime, request.historyRunId, request.kind);
  return {
    historyRunId: request.historyRunId,
    created,
    items: items.length,
    coins: new Set(items.map((i) => i.coinId)).size,
  };
}

/**
 * Adds a fetch job for every pending item of a run. Job ids are deterministic, so adding again what
 * is already queued adds nothing: this is also how a run whose jobs vanished (Redis wiped) resumes.
 */
export async function enqueueHistoryItems(runtime: Runtime, historyRunId: string, kind: HistoryKind): Promise<number> {
  const { config, pool } = runtime;
  const pending = await pendingItems(pool, historyRunId);
  const priority = kind === 'repair' ? FETCH_PRIORITY.repair : FETCH_PRIORITY.backfill;
  const queue = runtime.queue('fetch');
  for (let start = 0; start < pending.length; start += 1000) {
    await queue.addBulk(
      pending.slice(start, start + 1000).map((item) =>
        buildJob('fetch', config, {
          data: {
            runId: historyRunId,
            batchNo: item.itemNo,
            request: {
              endpoint: 'market-chart-range',
              coinId: item.coinId,
              vsCurrency: item.vsCurrency,
              from: Math.floor(item.fromMs / 1000),
              to: Math.ceil(item.toMs / 1000),
            },
          },
          jobId: jobIds.history(historyRunId, item.itemNo),
          opts: { priority },
        }),
      ),
    );
  }
  return pending.length;
}

async function pendingItems(
  pool: pg.Pool,
  historyRunId: string,
): Promise<Array<{ itemNo: number; coinId: string; vsCurrency: string; fromMs: number; toMs: number }>> {
  const { rows } = await pool.query<{
    item_no: number;
    coin_id: string;
    vs_currency: string;
    from_ms: string;
    to_ms: string;
  }>(
    `select i.item_no, i.coin_id, r.vs_currency,
            extract(epoch from i.range_from) * 1000 as from_ms, extract(epoch from i.range_to) * 1000 as to_ms
       from pipeline.history_items i join pipeline.history_runs r using (history_run_id)
      where i.history_run_id = $1 and i.status = 'pending'
      order by i.item_no`,
    [historyRunId],
  );
  return rows.map((r) => ({
    itemNo: r.item_no,
    coinId: r.coin_id,
    vsCurrency: r.vs_currency,
    fromMs: Number(r.from_ms),
    toMs: Number(r.to_ms),
  }));
}

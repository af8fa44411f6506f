import { WaitingChildrenError } from 'bullmq';
import { PermanentError } from '../../core/errors.js';
import type { Handler } from '../../core/jobs/run-job.js';
import { buildJob } from '../../core/queues/build-job.js';
import { deletePayload, readPayload } from '../../core/queues/payload-store.js';
import { jobIds, type FetchResult, type PayloadOf } from '../../core/queues/registry.js';
import type { Runtime } from '../../core/runtime.js';
import { runIdentity } from '../run-identity.js';
import { upsertUniverse, type ListedCoin } from './upsert-universe.js';

const PAGE_SIZE = 250;

/** Ranking pages one refresh fetches: none with COIN_IDS, else enough for the top N. */
function rankingPages(config: Runtime['config']): number {
  return config.universe.coinIds ? 0 : Math.ceil(config.universe.topN / PAGE_SIZE);
}

/** CoinGecko calls one universe refresh makes: the coin list and the ranking pages. */
export function universeCalls(config: Runtime['config']): number {
  return 1 + rankingPages(config);
}

/**
 * Refreshes raw.coins in two steps, so every HTTP call goes through the rate-limited fetch queue:
 * 1. add fetch children (the coin list, and in top-N mode the market-cap ranking pages) and wait;
 * 2. when they are done, upsert the list and ranks from their parked payloads.
 */
export function universeHandler(runtime: Runtime): Handler<'universe'> {
  const { config, pool, redis } = runtime;
  return async ({ job, log: jobLog, token }) => {
    const refreshId = runIdentity(job, 'u').runId;
    const log = jobLog.child({ runId: refreshId });
    const counts = await job.getDependenciesCount();
    const total = (counts.processed ?? 0) + (counts.unprocessed ?? 0) + (counts.ignored ?? 0) + (counts.failed ?? 0);
    if (total === 0) {
      const pages = rankingPages(config);
      const requests: PayloadOf<'fetch'>['request'][] = [
        { endpoint: 'coins-list' },
        ...Array.from({ length: pages }, (_, i) => ({
          endpoint: 'markets-page' as const,
          vsCurrency: config.coingecko.vsCurrency,
          page: i + 1,
          perPage: PAGE_SIZE,
        })),
      ];
      await runtime.queue('fetch').addBulk(
        requests.map((request, batchNo) =>
          buildJob('fetch', config, {
            data: { runId: refreshId, batchNo, request },
            jobId: jobIds.fetch(refreshId, batchNo),
            opts: { parent: { id: job.id!, queue: job.queueQualifiedName }, ignoreDependencyOnFailure: true },
          }),
        ),
      );
      log.info('universe refresh: fetching coin list and ranking', { calls: requests.length });
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    }

    const results = await job.getChildrenValues<FetchResult>();
    const failures = await job.getIgnoredChildrenFailures();
    const byBatch = new Map(Object.entries(results).map(([key, value]) => [Number(/-(\d+)$/.exec(key)?.[1]), value]));
    const listResult = byBatch.get(0);
    if (!listResult) {
      throw new PermanentError(
        `universe refresh ${refreshId}: the coin list could not be fetched: ${Object.values(failures).join('; ') || 'no result'}`,
      );
    }
    const listed = JSON.parse(await readPayload(redis, listResult.payloadKey)) as ListedCoin[];
    const ranked: { id: string; rank: number | null }[] = [];
    for (const [batchNo, result] of [...byBatch.entries()].filter(([n]) => n > 0).sort(([a], [b]) => a - b)) {
      const page = JSON.parse(await readPayload(redis, result.payloadKey)) as {
        id?: unknown;
        market_cap_rank?: unknown;
      }[];
      page.forEach((item, index) => {
        if (typeof item?.id !== 'string') return;
        const rank =
          typeof item.market_cap_rank === 'number' ? item.market_cap_rank : (batchNo - 1) * PAGE_SIZE + index + 1;
        ranked.push({ id: item.id, rank });
      });
    }
    // A coin that slipped between two ranking pages keeps its rank for two refreshes.
    const outcome = await upsertUniverse(
      pool,
      listed,
      ranked,
      Object.keys(failures).length === 0,
      2 * config.universe.refreshIntervalMs,
    );
    await Promise.all(Object.values(results).map((r) => deletePayload(redis, r.payloadKey)));
    if (Object.keys(failures).length > 0)
      log.warn('some ranking pages failed; their coins keep their previous rank', {
        failed: Object.keys(failures).length,
      });
    return { refreshId, ...outcome };
  };
}

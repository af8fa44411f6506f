import { CoinGeckoClient, requestTarget } from '../../core/coingecko/client.js';
import { bodySnippet } from '../../core/coingecko/error-body.js';
import { jsonArrayItems } from '../../core/coingecko/json-array-items.js';
import { RetryableError } from '../../core/errors.js';
import { parkBatch } from '../../core/handoff/parked-batch.js';
import { retryFailedLoad } from '../../core/handoff/recovery.js';
import type { Handler } from '../../core/jobs/run-job.js';
import {
  coingeckoLatency,
  coingeckoRequests,
  coingeckoResponseBytes,
  historyRows,
} from '../../core/metrics/registry.js';
import { markBatchFetched } from '../../core/pipeline/run-ledger.js';
import { countHistoryCall } from '../../core/history/history-ledger.js';
import { parseHistory } from '../../core/history/history-points.js';
import { storeHistory } from '../../core/history/store-history.js';
import type { FetchResult, PayloadOf } from '../../core/queues/registry.js';
import { payloadKey, savePayload } from '../../core/queues/payload-store.js';
import type { Logger } from '../../core/log/logger.js';
import type { Runtime } from '../../core/runtime.js';
import { encodeForParking } from '../../core/snapshots/loaded-keys.js';

/**
 * One CoinGecko call per job (the shared limiter counts job starts, so starts = calls). What it
 * fetched waits in Redis under the job's payload key, and only the key travels as the job's result:
 * a markets batch as a parked batch for its load job (core/handoff/parked-batch.ts), any other body
 * as received, for the universe refresh. What the fetch does for a load that failed with it is the
 * recovery protocol (core/handoff/recovery.ts).
 */
export function fetchHandler(runtime: Runtime, client = clientFor(runtime)): Handler<'fetch'> {
  const { config, pool, redis } = runtime;
  return async ({ job, data, signal, log }) => {
    const endpoint = requestTarget(data.request).path;
    if (data.request.endpoint === 'market-chart-range') return fetchHistory(runtime, client, data, signal, log);
    const response = await client.call(data.request, signal);
    if (!Array.isArray(response.json)) {
      throw new RetryableError(
        `GET ${endpoint}: expected a JSON array, got ${typeof response.json}: ${bodySnippet(response.body)}`,
      );
    }
    const key = payloadKey(config.redis.prefix, job.id!);
    const { request } = data;
    if (request.endpoint === 'markets') {
      // Validated and encoded here, where the parsed body already is and the rate limit leaves the
      // worker idle, keys already loaded left out, so the load worker (one transaction per batch,
      // the pipeline's narrowest point) only streams it.
      const context = { runId: data.runId, batchNo: data.batchNo, vsCurrency: request.vsCurrency };
      const { parked, checkFailed } = await encodeForParking(
        pool,
        context,
        response.json,
        // Cut only if a record is rejected: the quarantine keeps its text as sent.
        () => jsonArrayItems(response.body),
      );
      if (checkFailed)
        log.warn('could not check which keys are loaded; parked unchecked, its load looks them up', {
          error: checkFailed.message,
        });
      await parkBatch(redis, key, parked, config.load.payloadTtlMs);
      await markBatchFetched(pool, data.runId, data.batchNo, response.json.length);
      await retryFailedLoad(runtime, data.runId, data.batchNo);
    } else {
      await savePayload(redis, key, response.body, config.load.payloadTtlMs);
    }
    return {
      payloadKey: key,
      records: response.json.length,
      bytes: response.bytes,
      httpStatus: response.status,
      durationMs: Math.round(response.durationMs),
    };
  };
}

/**
 * One call of a history run: the coin's points over the item's range, stored at once (a few hundred
 * rows, inserted in the transaction that marks the item done, so a redelivered job adds nothing),
 * rather than parked for a load job: the fetch worker is otherwise idle between rate-limited calls.
 */
async function fetchHistory(
  runtime: Runtime,
  client: CoinGeckoClient,
  data: PayloadOf<'fetch'>,
  signal: AbortSignal,
  log: Logger,
): Promise<FetchResult> {
  const request = data.request as Extract<PayloadOf<'fetch'>['request'], { endpoint: 'market-chart-range' }>;
  if (!(await countHistoryCall(runtime.pool, data.runId, data.batchNo))) {
    log.info('history item already done: not fetched again', { coinId: request.coinId });
    return { payloadKey: '', records: 0, bytes: 0, httpStatus: 0, durationMs: 0 }; // httpStatus 0: no call made
  }
  const response = await client.call(request, signal);
  const parsed = parseHistory(response.json, { fromS: request.from, toS: request.to });
  const stored = await storeHistory(
    runtime.pool,
    { historyRunId: data.runId, itemNo: data.batchNo, coinId: request.coinId, vsCurrency: request.vsCurrency },
    parsed,
    response.status,
  );
  historyRows.inc({ outcome: 'inserted' }, stored.rowsInserted);
  historyRows.inc({ outcome: 'duplicate' }, parsed.points.length - stored.rowsInserted);
  historyRows.inc({ outcome: 'quarantined' }, stored.pointsRejected);
  if (stored.pointsRejected > 0)
    log.warn('history points quarantined', {
      coinId: request.coinId,
      rejected: stored.pointsRejected,
      reasons: [...new Set(parsed.rejected.map((r) => r.reason.replace(/ -?\d.*$/, '')))],
    });
  return {
    payloadKey: '',
    records: parsed.points.length,
    bytes: response.bytes,
    httpStatus: response.status,
    durationMs: Math.round(response.durationMs),
  };
}

function clientFor(runtime: Runtime): CoinGeckoClient {
  const { coingecko } = runtime.config;
  return new CoinGeckoClient({
    baseUrl: coingecko.baseUrl,
    plan: coingecko.plan,
    apiKey: coingecko.apiKey,
    timeoutMs: coingecko.timeoutMs,
    rateLimitWaitMs: coingecko.rateLimitWaitMs,
    observe: ({ endpoint, status, durationMs, bytes }) => {
      coingeckoRequests.inc({ endpoint, status });
      coingeckoLatency.observe({ endpoint }, durationMs / 1000);
      if (bytes > 0) coingeckoResponseBytes.observe({ endpoint }, bytes);
    },
  });
}

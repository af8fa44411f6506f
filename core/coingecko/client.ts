import got, { RequestError } from 'got';
import { PermanentError, RateLimitedError, RetryableError } from '../errors.js';
import { bodySnippet, describeErrorBody, retryAfterMs } from './error-body.js';
import { PLANS, type CoinGeckoPlan } from './plans.js';

export interface CoinGeckoClientOptions {
  readonly baseUrl: string;
  readonly plan: CoinGeckoPlan;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  /** Wait after a 429 that says nothing about how long to wait. */
  readonly rateLimitWaitMs: number;
  /** Told about every call's outcome (for metrics): HTTP status, or 'error' when no response came. */
  readonly observe?: (call: { endpoint: string; status: string; durationMs: number; bytes: number }) => void;
}

/** One CoinGecko call's outcome: the body as received (kept for the load step) and its parsed JSON. */
export interface CoinGeckoResponse {
  readonly endpoint: string;
  readonly status: number;
  readonly body: string;
  readonly json: unknown;
  readonly bytes: number;
  readonly durationMs: number;
}

/** The calls the pipeline makes; each is exactly one HTTP request (the rate limiter counts requests). */
export type CoinGeckoRequest =
  | { readonly endpoint: 'markets'; readonly vsCurrency: string; readonly ids: readonly string[] }
  | { readonly endpoint: 'markets-page'; readonly vsCurrency: string; readonly page: number; readonly perPage: number }
  | { readonly endpoint: 'coins-list' }
  | { readonly endpoint: 'ping' }
  | {
      readonly endpoint: 'market-chart-range';
      readonly coinId: string;
      readonly vsCurrency: string;
      /** UNIX seconds, as CoinGecko documents them. */
      readonly from: number;
      readonly to: number;
    };

/** The metrics label of every path the client calls: the route, never a coin id (a label per coin would be unbounded). */
export const MARKET_CHART_RANGE_ROUTE = '/coins/{id}/market_chart/range';

const PRICE_CHANGE_WINDOWS = '1h,24h,7d';

/**
 * A 429 pauses at least this long. `Retry-After: 0`, or an x-ratelimit-reset that our clock has
 * already passed (skew; the header has one-second resolution), would otherwise mean no pause: a
 * retry straight into the same window, and a 0 ms queue pause that Redis rejects (PX 0), which
 * turned the 429 into a failed attempt.
 */
export const MIN_RATE_LIMIT_WAIT_MS = 1000;

/** Path and query of a request; the key never goes in the URL (URLs end up in logs and errors). */
export function requestTarget(request: CoinGeckoRequest): { path: string; searchParams: Record<string, string> } {
  switch (request.endpoint) {
    case 'markets':
      return {
        path: '/coins/markets',
        searchParams: {
          vs_currency: request.vsCurrency,
          ids: request.ids.join(','),
          per_page: String(Math.min(250, Math.max(1, request.ids.length))),
          page: '1',
          price_change_percentage: PRICE_CHANGE_WINDOWS,
        },
      };
    case 'markets-page':
      return {
        path: '/coins/markets',
        searchParams: {
          vs_currency: request.vsCurrency,
          order: 'market_cap_desc',
          per_page: String(request.perPage),
          page: String(request.page),
        },
      };
    case 'coins-list':
      return { path: '/coins/list', searchParams: {} };
    case 'ping':
      return { path: '/ping', searchParams: {} };
    case 'market-chart-range':
      return {
        path: `/coins/${encodeURIComponent(request.coinId)}/market_chart/range`,
        searchParams: { vs_currency: request.vsCurrency, from: String(request.from), to: String(request.to) },
      };
  }
}

/** The route a request's calls are counted under (its path with any coin id left out). */
export function requestRoute(request: CoinGeckoRequest): string {
  return request.endpoint === 'market-chart-range' ? MARKET_CHART_RANGE_ROUTE : requestTarget(request).path;
}

/**
 * CoinGecko over got. Retries are BullMQ's job, so got never retries; every outcome is classified
 * here, where the response is read: 429 → RateLimitedError, 5xx/timeouts/resets/non-JSON →
 * RetryableError, other 4xx → PermanentError.
 */
export class CoinGeckoClient {
  private readonly headers: Record<string, string>;

  constructor(private readonly options: CoinGeckoClientOptions) {
    const keyHeader = PLANS[options.plan].keyHeader;
    this.headers = {
      accept: 'application/json',
      'user-agent': 'crypto-data-pipeline/0.1',
      ...(keyHeader && options.apiKey ? { [keyHeader]: options.apiKey } : {}),
    };
  }

  async call(request: CoinGeckoRequest, signal?: AbortSignal): Promise<CoinGeckoResponse> {
    const { path, searchParams } = requestTarget(request);
    const label = `GET ${path}`;
    const route = requestRoute(request);
    const started = performance.now();
    let response;
    try {
      response = await got(`${this.options.baseUrl}${path}`, {
        searchParams,
        headers: this.headers,
        timeout: { request: this.options.timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'text',
        signal,
      });
    } catch (error) {
      this.options.observe?.({ endpoint: route, status: 'error', durationMs: performance.now() - started, bytes: 0 });
      throw this.networkError(label, error);
    }
    const durationMs = performance.now() - started;
    const { statusCode: status, body } = response;
    const bytes = Buffer.byteLength(body);
    this.options.observe?.({ endpoint: route, status: String(status), durationMs, bytes });

    if (status === 429) {
      const wait = Math.max(MIN_RATE_LIMIT_WAIT_MS, retryAfterMs(response.headers) ?? this.options.rateLimitWaitMs);
      throw new RateLimitedError(
        `${label}: HTTP 429 rate limited (${describeErrorBody(body).message}); waiting ${wait}ms`,
        wait,
      );
    }
    if (status >= 500 || status === 408 || (status === 403 && !looksLikeJson(body))) {
      // 403 with an HTML page is Cloudflare's edge, not a verdict on our request.
      throw new RetryableError(`${label}: HTTP ${status} ${describeErrorBody(body).message}`, {
        retryAfterMs: retryAfterMs(response.headers),
      });
    }
    if (status >= 400) {
      const described = describeErrorBody(body);
      throw new PermanentError(
        `${label}: HTTP ${status}${described.code ? ` error_code ${described.code}` : ''}: ${described.message}`,
      );
    }
    if (status >= 300)
      throw new PermanentError(
        `${label}: unexpected redirect HTTP ${status} to ${String(response.headers.location ?? '?')}`,
      );

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      const type = String(response.headers['content-type'] ?? 'no content-type');
      throw new RetryableError(
        `${label}: body is not JSON (HTTP ${status}, ${type}, ${bytes} bytes): ${bodySnippet(body)}`,
      );
    }
    // Seen defensively in the wild: a rate-limit envelope inside a 200.
    if (isRateLimitEnvelope(json)) {
      throw new RateLimitedError(`${label}: rate-limit error body with HTTP ${status}`, this.options.rateLimitWaitMs);
    }
    return { endpoint: path, status, body, json, bytes, durationMs };
  }

  private networkError(label: string, error: unknown): RetryableError {
    if (error instanceof RequestError) {
      const what =
        error.code === 'ETIMEDOUT'
          ? `timed out after ${this.options.timeoutMs}ms`
          : `${error.code ?? 'request error'}: ${error.message}`;
      return new RetryableError(`${label}: ${what}`, { cause: error });
    }
    if ((error as { name?: string }).name === 'AbortError')
      return new RetryableError(`${label}: aborted`, { cause: error });
    return new RetryableError(`${label}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

function looksLikeJson(body: string): boolean {
  const first = body.trimStart()[0];
  return first === '{' || first === '[';
}

function isRateLimitEnvelope(json: unknown): boolean {
  const status = (json as { status?: { error_code?: unknown } } | null)?.status;
  return !Array.isArray(json) && typeof status === 'object' && status !== null && status.error_code === 429;
}

import { RetryableError } from '../errors.js';

/** One point of a coin's history: CoinGecko's three series joined on their timestamp. */
export interface HistoryPoint {
  /** Epoch milliseconds, as CoinGecko sends them (arbitrary milliseconds included). */
  readonly observedAtMs: number;
  readonly price: number;
  readonly marketCap: number | null;
  readonly totalVolume: number | null;
}

/** A point refused, kept with its reason and the values it came with. */
export interface RejectedPoint {
  /** Its index in `prices`. */
  readonly index: number;
  readonly reason: string;
  readonly record: { readonly prices: unknown; readonly market_caps: unknown; readonly total_volumes: unknown };
}

export interface ParsedHistory {
  readonly points: readonly HistoryPoint[];
  readonly rejected: readonly RejectedPoint[];
  /** Seconds between points (300, 3600 or 86400): CoinGecko's automatic granularity for the range. */
  readonly resolutionS: number;
}

const MINUTE_S = 60;
const RESOLUTIONS_S = [5 * MINUTE_S, 60 * MINUTE_S, 24 * 60 * MINUTE_S] as const;

/**
 * Validates a /coins/{id}/market_chart/range body point by point. A body that is not the documented
 * shape is refused whole (retryable: a truncated or edge-cached error page); inside a good body each
 * bad point is rejected with its reason and the others are kept:
 * - a price that is null, not a number or negative;
 * - a timestamp that is not a finite number;
 * - a timestamp seen before in the same body (the first one wins);
 * - a timestamp earlier than the point before it (out of order: CoinGecko sends them ascending).
 * Market caps and volumes are matched to prices by timestamp, not by position; a missing or bad one
 * is stored as null (CoinGecko sends 0 for an unknown market cap, which is kept as sent).
 */
export function parseHistory(json: unknown, span: { fromS: number; toS: number }): ParsedHistory {
  const body = json as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(body.prices)) {
    throw new RetryableError(
      `market_chart/range: expected an object with a prices array, got ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const prices = body.prices as unknown[];
  const caps = byTimestamp(body.market_caps);
  const volumes = byTimestamp(body.total_volumes);
  const points: HistoryPoint[] = [];
  const rejected: RejectedPoint[] = [];
  const seen = new Set<number>();
  let last = -Infinity;
  prices.forEach((entry, index) => {
    const time = Array.isArray(entry) ? entry[0] : undefined;
    const price = Array.isArray(entry) ? entry[1] : undefined;
    const reject = (reason: string) =>
      rejected.push({
        index,
        reason,
        record: {
          prices: entry,
          market_caps: typeof time === 'number' ? (caps.raw.get(time) ?? null) : null,
          total_volumes: typeof time === 'number' ? (volumes.raw.get(time) ?? null) : null,
        },
      });
    if (typeof time !== 'number' || !Number.isFinite(time)) return reject('timestamp is not a number');
    if (price === null || price === undefined) return reject('price is null');
    if (typeof price !== 'number' || !Number.isFinite(price)) return reject('price is not a number');
    if (price < 0) return reject('price is negative');
    if (seen.has(time)) return reject(`duplicated timestamp ${time}`);
    if (time < last) return reject(`out-of-order timestamp ${time} after ${last}`);
    seen.add(time);
    last = time;
    points.push({
      observedAtMs: time,
      price,
      marketCap: caps.values.get(time) ?? null,
      totalVolume: volumes.values.get(time) ?? null,
    });
  });
  return { points, rejected, resolutionS: resolutionOf(points, span) };
}

function byTimestamp(series: unknown): { values: Map<number, number>; raw: Map<number, unknown> } {
  const values = new Map<number, number>();
  const raw = new Map<number, unknown>();
  if (!Array.isArray(series)) return { values, raw };
  for (const entry of series) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number') continue;
    if (raw.has(entry[0])) continue;
    raw.set(entry[0], entry);
    if (typeof entry[1] === 'number' && Number.isFinite(entry[1]) && entry[1] >= 0) values.set(entry[0], entry[1]);
  }
  return { values, raw };
}

/**
 * The body's granularity: the median step between its points, snapped to CoinGecko's three (the
 * final point "now" is off the grid, so the median, not the last step). With fewer than two points,
 * the documented rule for the span: up to a day 5-minutely, up to 90 days hourly, daily beyond.
 */
export function resolutionOf(points: readonly HistoryPoint[], span: { fromS: number; toS: number }): number {
  if (points.length < 2) {
    const days = (span.toS - span.fromS) / 86_400;
    return days <= 1 ? RESOLUTIONS_S[0] : days <= 90 ? RESOLUTIONS_S[1] : RESOLUTIONS_S[2];
  }
  const steps = points
    .slice(1)
    .map((p, i) => (p.observedAtMs - points[i]!.observedAtMs) / 1000)
    .sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)]!;
  return RESOLUTIONS_S.reduce((best, r) =>
    Math.abs(Math.log(r / median)) < Math.abs(Math.log(best / median)) ? r : best,
  );
}

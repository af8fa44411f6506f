import { vsRate } from '../currencies.js';
import { corruptHistory, type Series } from '../history-faults.js';
import { marketCapUsdAt, priceUsdAt, volumeUsdAt } from '../market.js';
import { errorMessage, historyLimit, json } from '../responses.js';
import type { RouteHandler } from './route.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Demo and keyless plans may only look back this far (error 10012). */
const HISTORY_LIMIT_MS = 365 * DAY_MS;

/**
 * `GET /coins/{id}/market_chart/range`. Auto granularity by span: ≤ 1 day 5-minutely, ≤ 90 days
 * hourly, beyond that daily at 00:00 UTC; a final point at "now" when the range reaches it.
 */
export const marketChartRange: RouteHandler = ({ sim, settings, now, query, params }) => {
  const coin = sim.coin(safeDecode(params[0]!));
  if (coin === undefined) return errorMessage(404, 'coin not found');
  const rate = vsRate((query.get('vs_currency') ?? '').toLowerCase());
  if (rate === undefined) return errorMessage(400, 'invalid vs_currency');
  const from = parseInstant(query.get('from'));
  const to = parseInstant(query.get('to'));
  if (from === undefined) return errorMessage(400, 'invalid from');
  if (to === undefined) return errorMessage(400, 'invalid to');
  if (settings.plan !== 'pro' && from < now - HISTORY_LIMIT_MS) return historyLimit(now);

  const span = to - from;
  const interval = span <= DAY_MS ? 5 * MINUTE_MS : span <= 90 * DAY_MS ? HOUR_MS : DAY_MS;
  const end = Math.min(to, now);
  const times: number[] = [];
  for (let t = Math.ceil(from / interval) * interval; t <= end; t += interval) times.push(t);
  if (to >= now && from <= now && times.at(-1) !== now) times.push(now);

  let prices: Series = [];
  const caps: [number, number][] = [];
  const volumes: [number, number][] = [];
  for (const t of times) {
    const price = priceUsdAt(coin, t);
    const cap = marketCapUsdAt(coin, t, price);
    prices.push([t, price * rate]);
    caps.push([t, Number.isNaN(cap) ? 0 : cap * rate]);
    volumes.push([t, volumeUsdAt(coin, t, price) * rate]);
  }
  if (settings.badHistoryCoinIds.includes(coin.id)) prices = corruptHistory(prices);
  return json(200, { prices, market_caps: caps, total_volumes: volumes });
};

/** UNIX seconds, or an ISO date (`YYYY-MM-DD[THH:MM]`) as the SDK also sends; returns epoch ms. */
function parseInstant(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.floor(Number(value) * 1000);
  const ms = Date.parse(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/.test(value) ? `${value}${value.length === 10 ? 'T00:00' : ''}Z` : value,
  );
  return Number.isNaN(ms) ? undefined : ms;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

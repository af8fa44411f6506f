import { vsRate } from '../currencies.js';
import { CHANGE_TIMEFRAMES } from '../records.js';
import { errorMessage, json } from '../responses.js';
import { MARKET_ORDERS, type MarketOrder } from '../simulation.js';
import { commaList, flag, type RouteHandler } from './route.js';

const MAX_PER_PAGE = 250;

/** `GET /coins/markets`: ids filter, then order, then pagination (reference §3.3). */
export const coinsMarkets: RouteHandler = ({ sim, settings, now, query, note }) => {
  const rate = vsRate((query.get('vs_currency') ?? '').toLowerCase());
  if (rate === undefined) return errorMessage(400, 'invalid vs_currency');
  const order = query.get('order') ?? 'market_cap_desc';
  if (!MARKET_ORDERS.includes(order as MarketOrder)) return errorMessage(400, 'invalid order');
  const perPage = positiveInteger(query.get('per_page'), 100);
  if (perPage === undefined) return errorMessage(400, 'invalid per_page');
  const page = positiveInteger(query.get('page'), 1);
  if (page === undefined) return errorMessage(400, 'invalid page');

  const idsParam = query.get('ids');
  const ids = idsParam === null ? undefined : commaList(idsParam);
  if (ids !== undefined) note.ids = ids.length;
  const changeTimeframes = [...new Set(commaList(query.get('price_change_percentage')))].filter((tf) =>
    Object.hasOwn(CHANGE_TIMEFRAMES, tf),
  );

  const items = sim.markets(
    {
      // An empty `ids=` is ignored rather than matching nothing.
      ids: ids !== undefined && ids.length > 0 ? ids : undefined,
      order: order as MarketOrder,
      rate,
      extras: { sparkline: flag(query, 'sparkline'), changeTimeframes },
      page: { number: page, size: Math.min(perPage, MAX_PER_PAGE) },
    },
    settings,
    now,
  );
  return json(200, items);
};

/** A decimal integer ≥ 1, the default when absent, undefined when invalid. */
function positiveInteger(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

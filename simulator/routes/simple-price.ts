import { vsRate } from '../currencies.js';
import { priceUsdAt } from '../market.js';
import { errorMessage, json } from '../responses.js';
import { commaList, flag, type RouteHandler } from './route.js';

const DAY_MS = 86_400_000;

/** `GET /simple/price`: `{ [id]: { usd, usd_market_cap, usd_24h_vol, usd_24h_change, last_updated_at } }`. */
export const simplePrice: RouteHandler = ({ sim, now, query, note }) => {
  if (query.get('ids') === null) return errorMessage(400, 'missing ids');
  if (query.get('vs_currencies') === null) return errorMessage(400, 'missing vs_currencies');
  const ids = commaList(query.get('ids'));
  note.ids = ids.length;
  // Unsupported currencies are left out, like unknown ids.
  const currencies = commaList(query.get('vs_currencies')).filter((vs) => vsRate(vs) !== undefined);
  const withCap = flag(query, 'include_market_cap');
  const withVol = flag(query, 'include_24hr_vol');
  const withChange = flag(query, 'include_24hr_change');
  const withUpdated = flag(query, 'include_last_updated_at');
  const data = sim.market.at(now);

  const result: Record<string, Record<string, number | null>> = {};
  for (const coin of sim.resolveIds(ids)) {
    const i = coin.index;
    const t = data.lastUpdatedMs[i]!;
    const priceUsd = data.priceUsd[i]!;
    const capUsd = data.capUsd[i]!;
    // The docs say 24h_change is null when the price is stale.
    const change = sim.market.isStale(coin) ? null : (priceUsd / priceUsdAt(coin, t - DAY_MS) - 1) * 100;
    const entry: Record<string, number | null> = {};
    for (const vs of currencies) {
      const rate = vsRate(vs)!;
      entry[vs] = priceUsd * rate;
      if (withCap) entry[`${vs}_market_cap`] = Number.isNaN(capUsd) ? 0 : capUsd * rate;
      if (withVol) entry[`${vs}_24h_vol`] = data.volumeUsd[i]! * rate;
      if (withChange) entry[`${vs}_24h_change`] = change;
    }
    if (withUpdated) entry.last_updated_at = Math.floor(t / 1000);
    result[coin.id] = entry;
  }
  return json(200, result);
};

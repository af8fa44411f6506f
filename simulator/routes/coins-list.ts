import { json } from '../responses.js';
import type { Coin } from '../universe.js';
import { flag, type RouteHandler } from './route.js';

/** `GET /coins/list`: the whole (unpaginated) list, sorted by id like CoinGecko's. */
export const coinsList: RouteHandler = ({ sim, query }) => {
  const status = query.get('status') ?? 'active';
  if (status !== 'active' && status !== 'inactive') return json(400, { error: 'invalid status' });
  const includePlatform = flag(query, 'include_platform');
  const coins: readonly Coin[] = status === 'active' ? sim.coins : sim.inactive;
  const items = [...coins]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) =>
      includePlatform
        ? { id: c.id, symbol: c.symbol, name: c.name, platforms: c.platforms }
        : { id: c.id, symbol: c.symbol, name: c.name },
    );
  return json(200, items);
};

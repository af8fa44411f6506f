/** The API's route table: path patterns below `/api/v3`, with the endpoint name used in stats. */
import { coinsList } from './coins-list.js';
import { coinsMarkets } from './coins-markets.js';
import { marketChartRange } from './market-chart-range.js';
import { ping } from './ping.js';
import type { RouteHandler } from './route.js';
import { simplePrice } from './simple-price.js';

interface Route {
  pattern: RegExp;
  endpoint: string;
  handler: RouteHandler;
}

const ROUTES: readonly Route[] = [
  { pattern: /^\/ping$/, endpoint: '/ping', handler: ping },
  { pattern: /^\/coins\/list$/, endpoint: '/coins/list', handler: coinsList },
  { pattern: /^\/coins\/markets$/, endpoint: '/coins/markets', handler: coinsMarkets },
  { pattern: /^\/simple\/price$/, endpoint: '/simple/price', handler: simplePrice },
  {
    pattern: /^\/coins\/([^/]+)\/market_chart\/range$/,
    endpoint: '/coins/{id}/market_chart/range',
    handler: marketChartRange,
  },
];

/** The matching route and its captured parameters, or undefined for an unknown path. */
export function matchRoute(path: string): { endpoint: string; handler: RouteHandler; params: string[] } | undefined {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match) return { endpoint: route.endpoint, handler: route.handler, params: match.slice(1) };
  }
  return undefined;
}

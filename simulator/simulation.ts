/**
 * The simulated CoinGecko data set: universe, market, and the queries the endpoints answer.
 * Independent of HTTP so `control.marketsSnapshot` returns exactly what the API would.
 */
import { Market, type StepData } from './market.js';
import type { FaultSettings } from './options.js';
import { corruptionFor, presentRecord } from './record-faults.js';
import { buildMarketsItem, type RecordExtras } from './records.js';
import { buildInactiveCoins, buildUniverse, type Coin } from './universe.js';

// Module-level aliases: global lookups are ~100x slower inside vm contexts (jest), and these are hot.
const isNaN_ = Number.isNaN;

/** Sort orders `/coins/markets` accepts. */
export const MARKET_ORDERS = [
  'market_cap_desc',
  'market_cap_asc',
  'volume_desc',
  'volume_asc',
  'id_asc',
  'id_desc',
] as const;
export type MarketOrder = (typeof MARKET_ORDERS)[number];

/** A `/coins/markets` query after parameter validation. */
export interface MarketsQuery {
  /** Requested ids (unknown ones are dropped); undefined = the whole universe. */
  ids?: readonly string[];
  order: MarketOrder;
  rate: number;
  extras: RecordExtras;
  /** 1-based page and page size; undefined = everything. */
  page?: { number: number; size: number };
}

export class Simulation {
  readonly coins: readonly Coin[];
  readonly inactive: readonly Coin[];
  readonly market: Market;
  private readonly byId = new Map<string, Coin>();
  /** Coin indices sorted by id, for `id_asc` / `id_desc`. */
  private readonly byIdAsc: Int32Array;

  constructor(
    seed: number,
    coinCount: number,
    stepMs: number,
    staleFraction: number,
    private readonly faultSeed: number,
  ) {
    this.coins = buildUniverse(seed, coinCount);
    this.inactive = buildInactiveCoins(seed, this.coins);
    for (const coin of this.coins) this.byId.set(coin.id, coin);
    this.market = new Market(this.coins, stepMs, seed, staleFraction);
    this.byIdAsc = Int32Array.from(this.coins, (c) => c.index).sort((a, b) =>
      compareStrings(this.coins[a]!.id, this.coins[b]!.id),
    );
  }

  /** An active coin by id. */
  coin(id: string): Coin | undefined {
    return this.byId.get(id);
  }

  /** Known, distinct coins for a requested id list, in request order. */
  resolveIds(ids: readonly string[]): Coin[] {
    const seen = new Set<Coin>();
    for (const id of ids) {
      const coin = this.byId.get(id);
      if (coin) seen.add(coin);
    }
    return [...seen];
  }

  /** The `/coins/markets` answer at time `now`: filter by ids, then order, then paginate. */
  markets(query: MarketsQuery, settings: FaultSettings, now: number): Record<string, unknown>[] {
    const data = this.market.at(now);
    let indices =
      query.ids === undefined
        ? this.orderedUniverse(query.order, data)
        : this.orderSubset(this.resolveIds(query.ids), query.order, data);
    if (query.page) {
      const start = (query.page.number - 1) * query.page.size;
      indices = indices.slice(start, start + query.page.size);
    }
    return Array.from(indices, (index) => {
      const coin = this.coins[index]!;
      const item = buildMarketsItem(coin, data, query.rate, query.extras);
      return presentRecord(item, corruptionFor(coin, data.step, this.faultSeed, settings), settings);
    });
  }

  private orderedUniverse(order: MarketOrder, data: StepData): Int32Array | number[] {
    switch (order) {
      case 'market_cap_desc':
        return data.byCapDesc;
      case 'id_asc':
        return this.byIdAsc;
      case 'id_desc':
        return this.byIdAsc.slice().reverse();
      default:
        return this.orderSubset(this.coins, order, data);
    }
  }

  private orderSubset(coins: readonly Coin[], order: MarketOrder, data: StepData): number[] {
    const indices = coins.map((c) => c.index);
    const { capUsd, volumeUsd } = data;
    const ids = (i: number) => this.coins[i]!.id;
    const compare: Record<MarketOrder, (a: number, b: number) => number> = {
      // Coins without a cap sort last in both directions, like unranked coins on CoinGecko.
      market_cap_desc: (a, b) => nanLast(capUsd, a, b) || capUsd[b]! - capUsd[a]! || a - b,
      market_cap_asc: (a, b) => nanLast(capUsd, a, b) || capUsd[a]! - capUsd[b]! || a - b,
      volume_desc: (a, b) => volumeUsd[b]! - volumeUsd[a]! || a - b,
      volume_asc: (a, b) => volumeUsd[a]! - volumeUsd[b]! || a - b,
      id_asc: (a, b) => compareStrings(ids(a), ids(b)),
      id_desc: (a, b) => compareStrings(ids(b), ids(a)),
    };
    return indices.sort(compare[order]);
  }
}

function nanLast(values: Float64Array, a: number, b: number): number {
  const na = isNaN_(values[a]!);
  const nb = isNaN_(values[b]!);
  return na === nb ? 0 : na ? 1 : -1;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds `/coins/markets` items: the 26 documented fields in CoinGecko's key order, plus the
 * optional sparkline and `price_change_percentage_<tf>_in_currency` fields.
 */
import { priceUsdAt, volumeUsdAt, type StepData } from './market.js';
import type { Coin } from './universe.js';

// Module-level aliases: global lookups are ~100x slower inside vm contexts (jest), and these are hot.
const { max, min, round: roundInt } = Math;
const isFinite_ = Number.isFinite;
const toNumber = Number;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Timeframes accepted by `price_change_percentage`, with their lengths. */
export const CHANGE_TIMEFRAMES: Readonly<Record<string, number>> = Object.freeze({
  '1h': HOUR_MS,
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '14d': 14 * DAY_MS,
  '30d': 30 * DAY_MS,
  '200d': 200 * DAY_MS,
  '1y': 365 * DAY_MS,
});

/** A markets item as the simulator builds it, before any fault corrupts it. */
export interface MarketsItem {
  id: string;
  symbol: string;
  name: string;
  image: string;
  current_price: number | null;
  market_cap: number | null;
  market_cap_rank: number | null;
  fully_diluted_valuation: number | null;
  total_volume: number | null;
  high_24h: number | null;
  low_24h: number | null;
  price_change_24h: number | null;
  price_change_percentage_24h: number | null;
  market_cap_change_24h: number | null;
  market_cap_change_percentage_24h: number | null;
  circulating_supply: number | null;
  total_supply: number | null;
  max_supply: number | null;
  ath: number | null;
  ath_change_percentage: number | null;
  ath_date: string | null;
  atl: number | null;
  atl_change_percentage: number | null;
  atl_date: string | null;
  roi: { times: number; currency: string; percentage: number } | null;
  last_updated: string;
  sparkline_in_7d?: { price: number[] };
  [changeField: `price_change_percentage_${string}_in_currency`]: number | null;
}

/** What a request asks for beyond the base fields. */
export interface RecordExtras {
  sparkline: boolean;
  /** Timeframes from {@link CHANGE_TIMEFRAMES}, in request order. */
  changeTimeframes: string[];
}

/** Rounds to `digits` significant digits, as CoinGecko's prices are. */
function sig(x: number, digits = 6): number {
  return x === 0 || !isFinite_(x) ? x : toNumber(x.toPrecision(digits));
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return roundInt(x * f) / f;
}

/** Builds the item for `coin` as served during `data.step`, in currency `vs` at `rate` per USD. */
export function buildMarketsItem(coin: Coin, data: StepData, rate: number, extras: RecordExtras): MarketsItem {
  const t = data.lastUpdatedMs[coin.index]!;
  const priceUsd = data.priceUsd[coin.index]!;
  const dayAgoUsd = priceUsdAt(coin, t - DAY_MS);
  let high = max(priceUsd, dayAgoUsd);
  let low = min(priceUsd, dayAgoUsd);
  for (let h = 1; h < 24; h++) {
    const p = priceUsdAt(coin, t - h * HOUR_MS);
    if (p > high) high = p;
    if (p < low) low = p;
  }
  const price = priceUsd * rate;
  const dayAgo = dayAgoUsd * rate;
  const hasCap = coin.capKind === 'normal';
  const cap = hasCap ? roundInt(price * coin.circulating) : coin.capKind === 'zero' ? 0 : null;
  const capDayAgo = hasCap ? roundInt(dayAgo * coin.circulating) : null;
  const fdvSupply = coin.max ?? coin.total;
  const ath = max(coin.ath.priceUsd * rate, price);
  const atl = min(coin.atl.priceUsd * rate, price);
  const isoNow = new Date(t).toISOString();

  const item: MarketsItem = {
    id: coin.id,
    symbol: coin.symbol,
    name: coin.name,
    image: coin.image,
    current_price: sig(price),
    market_cap: cap,
    market_cap_rank: data.rank[coin.index]! > 0 ? data.rank[coin.index]! : null,
    fully_diluted_valuation: fdvSupply === null ? null : roundInt(price * fdvSupply),
    total_volume: roundInt(volumeUsdAt(coin, t, priceUsd) * rate),
    high_24h: sig(high * rate),
    low_24h: sig(low * rate),
    price_change_24h: price - dayAgo,
    price_change_percentage_24h: round((price / dayAgo - 1) * 100, 5),
    market_cap_change_24h: cap !== null && capDayAgo !== null ? cap - capDayAgo : null,
    market_cap_change_percentage_24h: cap !== null && capDayAgo ? round((cap / capDayAgo - 1) * 100, 5) : null,
    circulating_supply: coin.circulating,
    total_supply: coin.total,
    max_supply: coin.max,
    ath: sig(ath),
    ath_change_percentage: round((price / ath - 1) * 100, 5),
    ath_date: ath === coin.ath.priceUsd * rate ? coin.ath.date : isoNow,
    atl: sig(atl),
    atl_change_percentage: round((price / atl - 1) * 100, 5),
    atl_date: atl === coin.atl.priceUsd * rate ? coin.atl.date : isoNow,
    roi: coin.roi && {
      times: priceUsd / coin.roi.icoPriceUsd - 1,
      currency: coin.roi.currency,
      percentage: (priceUsd / coin.roi.icoPriceUsd - 1) * 100,
    },
    last_updated: isoNow,
  };
  if (extras.sparkline) {
    // 168 hourly points ending at the coin's last update, like CoinGecko's 7-day sparkline.
    item.sparkline_in_7d = {
      price: Array.from({ length: 168 }, (_, i) => priceUsdAt(coin, t - (167 - i) * HOUR_MS) * rate),
    };
  }
  for (const tf of extras.changeTimeframes) {
    item[`price_change_percentage_${tf}_in_currency`] =
      (priceUsd / priceUsdAt(coin, t - CHANGE_TIMEFRAMES[tf]!) - 1) * 100;
  }
  return item;
}

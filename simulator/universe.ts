/**
 * The deterministic coin universe: the well-known coins first, then synthetic but realistic ones.
 * Coin `i` depends only on `(seed, i)` and the ids before it, so a smaller universe is a prefix of a
 * larger one with the same seed.
 */
import { gaussian, hashInts, hashString, mulberry32 } from './hash.js';
import { WELL_KNOWN_COINS } from './well-known-coins.js';

// Aliased: global lookups are slow inside vm contexts (jest) and a universe makes ~10^6 of them.
const { floor, log, exp, round, min, max } = Math;

/** Whether a coin has a market cap, and how CoinGecko shows its absence. */
export type CapKind = 'normal' | 'null' | 'zero';

/** One coin's static description; its prices over time come from `market.ts`. */
export interface Coin {
  /** Position in the universe (stable order of `universeIds()`). */
  index: number;
  id: string;
  symbol: string;
  name: string;
  image: string;
  /** Seed of this coin's price path. */
  key: number;
  /** ln of the USD price around which the path wanders. */
  baseLogPrice: number;
  dailyVol: number;
  circulating: number;
  total: number | null;
  max: number | null;
  capKind: CapKind;
  /** 24 h volume as a fraction of market cap (or of a notional cap when there is none). */
  volumeRatio: number;
  ath: { priceUsd: number; date: string };
  atl: { priceUsd: number; date: string };
  roi: { currency: string; icoPriceUsd: number } | null;
  /** `{}` for native coins, contract addresses for tokens. */
  platforms: Record<string, string>;
  /** Where in a step this coin's update lands, as a fraction of the step. */
  updatePhase: number;
}

const WORDS = (
  'quantum lattice protocol aurora nova stellar orbit zenith nimbus vertex prism ember cobalt ' +
  'falcon harbor summit echo pixel cipher atlas titan lunar solar vapor nexus pulse drift forge ' +
  'meadow river canyon glacier thunder shadow crystal velvet copper silver golden iron jade onyx ' +
  'ruby sapphire amber coral maple cedar willow raven otter panda tiger koala shiba frog whale ' +
  'rocket moon mars galaxy comet meteor photon neutron plasma fusion chain block ledger vault ' +
  'bridge oracle swap yield stake pool farm mint dao guild realm kingdom quest arena legend ' +
  'spark flux wave byte bit hash node grid mesh link layer core base zero alpha beta gamma ' +
  'delta omega sigma apex prime nano micro mega ultra hyper meta open free smart safe fair'
).split(' ');

const SUFFIXES = [
  'protocol',
  'finance',
  'network',
  'token',
  'coin',
  'dao',
  'swap',
  'labs',
  'ai',
  'inu',
  'chain',
  'verse',
];

const DAY_MS = 86_400_000;
const HISTORY_START = Date.UTC(2017, 0, 1);
const HISTORY_END = Date.UTC(2024, 5, 1);

/** Builds the active universe of `count` coins for `seed`. */
export function buildUniverse(seed: number, count: number): Coin[] {
  const coins: Coin[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < count; i++) {
    const coin = i < WELL_KNOWN_COINS.length ? wellKnown(seed, i) : synthetic(seed, i, taken, 0);
    taken.add(coin.id);
    coins.push(coin);
  }
  return coins;
}

/** A small deterministic list of delisted coins, none of them in the active universe. */
export function buildInactiveCoins(seed: number, active: readonly Coin[]): Coin[] {
  const taken = new Set(active.map((c) => c.id));
  const count = max(5, min(200, round(active.length / 500)));
  const coins: Coin[] = [];
  for (let i = 0; i < count; i++) {
    const coin = synthetic(seed, active.length + i, taken, 1);
    taken.add(coin.id);
    coins.push(coin);
  }
  return coins;
}

function wellKnown(seed: number, index: number): Coin {
  const w = WELL_KNOWN_COINS[index]!;
  return {
    index,
    id: w.id,
    symbol: w.symbol,
    name: w.name,
    image: imageUrl(index, w.id),
    key: hashString(w.id, seed),
    baseLogPrice: log(w.priceUsd),
    dailyVol: w.dailyVol,
    circulating: w.circulating,
    total: w.total,
    max: w.max,
    capKind: 'normal',
    volumeRatio: w.dailyVol < 0.001 ? 0.4 : 0.04,
    ath: { priceUsd: w.ath[0], date: w.ath[1] },
    atl: { priceUsd: w.atl[0], date: w.atl[1] },
    roi: w.roi ?? null,
    platforms: { ...w.platforms },
    updatePhase: mulberry32(hashString(w.id, seed ^ 0x5bd1e995))(),
  };
}

/** `stream` separates the inactive list's draws from the active universe's. */
function synthetic(seed: number, index: number, taken: Set<string>, stream: number): Coin {
  const random = mulberry32(hashInts(seed, index, stream));
  const pick = <T>(list: readonly T[]): T => list[floor(random() * list.length)]!;

  const words = [pick(WORDS)];
  const shape = random();
  if (shape < 0.5) words.push(pick(WORDS));
  else if (shape < 0.8) words.push(pick(WORDS), pick(WORDS));
  else words.push(pick(SUFFIXES));
  let id = words.join('-').slice(0, 36).replace(/-+$/, '');
  // CoinGecko disambiguates re-used names with numeric suffixes (`avalanche-2`).
  if (random() < 0.03) id = `${id}-${2 + floor(random() * 3)}`;
  for (let n = 2; taken.has(id); n++) id = `${words.join('-').slice(0, 36).replace(/-+$/, '')}-${n}`;

  const name = words.map((w) => (w.length <= 2 ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1))).join(' ');
  const symbol =
    random() < 0.5
      ? words.map((w) => w[0]).join('') + pick(WORDS).slice(0, 1)
      : words[0]!.slice(0, 3 + floor(random() * 3));

  // Market caps are log-normal over many orders of magnitude, kept below the well-known coins.
  const logCap = min(log(3e9), log(3e6) + 2.5 * gaussian(random));
  let logPrice = log(0.3) + 2.8 * gaussian(random);
  const kind = random();
  if (kind < 0.04) logPrice = log(1e-7) + random() * log(100); // tiny prices: 1e-7 .. 1e-5
  let circulating = exp(logCap - logPrice);
  if (kind >= 0.04 && kind < 0.05) {
    // Meme-style supplies beyond 1e15: the price follows from the cap.
    circulating = exp(log(1e15) + random() * log(500));
    logPrice = logCap - log(circulating);
  }
  circulating = round(circulating * 100) / 100;

  const capDraw = random();
  const capKind: CapKind = capDraw < 0.01 ? 'null' : capDraw < 0.02 ? 'zero' : 'normal';
  const supplyDraw = random();
  const total = supplyDraw < 0.1 ? null : round(circulating * (1 + random() * random() * 2));
  const max = total === null || supplyDraw < 0.45 ? null : round(total * (1 + random() * 0.5));

  const athDay = HISTORY_START + floor(random() * ((HISTORY_END - HISTORY_START) / DAY_MS)) * DAY_MS;
  const atlDay = HISTORY_START + floor(random() * ((HISTORY_END - HISTORY_START) / DAY_MS)) * DAY_MS;
  const athMs = athDay + floor(random() * DAY_MS);
  const atlMs = atlDay + (random() < 0.4 ? 0 : floor(random() * DAY_MS));
  const tokenDraw = random();

  return {
    index,
    id,
    symbol: symbol.toLowerCase(),
    name,
    image: imageUrl(index, id),
    key: hashString(id, seed),
    baseLogPrice: logPrice,
    dailyVol: 0.03 + random() * 0.09,
    circulating: capKind === 'normal' ? circulating : 0,
    total,
    max,
    capKind,
    volumeRatio: exp(log(0.03) + 1.2 * gaussian(random)),
    ath: { priceUsd: exp(logPrice + 0.3 + 2.5 * random()), date: new Date(athMs).toISOString() },
    atl: { priceUsd: exp(logPrice - 0.5 - 4 * random()), date: new Date(atlMs).toISOString() },
    roi:
      random() < 0.03
        ? { currency: pick(['usd', 'btc', 'eth']), icoPriceUsd: exp(logPrice - 3 * random() + 0.5) }
        : null,
    platforms:
      tokenDraw < 0.3
        ? { ethereum: hexAddress(random) }
        : tokenDraw < 0.4
          ? { solana: base58Address(random) }
          : tokenDraw < 0.45
            ? { ethereum: hexAddress(random), 'binance-smart-chain': hexAddress(random) }
            : {},
    updatePhase: random(),
  };
}

function imageUrl(index: number, id: string): string {
  return `https://coin-images.coingecko.com/coins/images/${index + 1}/large/${id}.png?${1696501400 + index}`;
}

function hexAddress(random: () => number): string {
  let s = '0x';
  for (let i = 0; i < 40; i++) s += '0123456789abcdef'[floor(random() * 16)];
  return s;
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58Address(random: () => number): string {
  let s = '';
  for (let i = 0; i < 44; i++) s += BASE58[floor(random() * BASE58.length)];
  return s;
}

/**
 * Deterministic market data. A coin's log-price is its base plus seeded value noise summed over
 * octaves (piecewise-linear between hashed lattice values, amplitude ∝ √scale), which behaves like a
 * random walk yet is a pure function of `(seed, coin, time)`: any instant, past or future, costs
 * O(octaves) to evaluate and two simulators with one seed always agree.
 */
import { fmix32, unitOf } from './hash.js';
import type { Coin } from './universe.js';

// Module-level aliases: global lookups are ~100x slower inside vm contexts (jest), and these are hot.
const { imul, floor, exp, sqrt, min } = Math;
const isNaN_ = Number.isNaN;

const DAY_MS = 86_400_000;
/** Finest noise scale; fixed (not tied to stepMs) so prices do not depend on the step setting. */
const BASE_SCALE_MS = 10_000;
/** 10 s × 2^21 ≈ 243 days: the coarsest scale, so yearly charts still wander. */
const OCTAVES = 22;
/**
 * √scale up to ~16 days, flat beyond: short horizons move like a random walk while long ones stay
 * mean-reverting, so well-known coins keep plausible magnitudes (bitcoin within ~±30 %) for years.
 */
const AMPS = Array.from({ length: OCTAVES }, (_, k) => sqrt(min(BASE_SCALE_MS * 2 ** k, 16 * DAY_MS) / DAY_MS));
const VOLUME_KEY_SALT = 0x3c6ef372;
/** Volume wiggles on scales from ~20 min upwards; finer detail would be invisible. */
const VOLUME_FIRST_OCTAVE = 7;

function lattice(key: number, octave: number, i: number): number {
  let h = fmix32(key ^ imul(octave + 1, 0x9e3779b1));
  h = fmix32(h ^ (i >>> 0));
  h = fmix32(h ^ floor(i / 4294967296));
  return h / 2147483648 - 1;
}

/** Zero-mean noise at time `t`; its std over one day is of order 1. */
function noise(key: number, t: number, firstOctave: number): number {
  let sum = 0;
  let scale = BASE_SCALE_MS * 2 ** firstOctave;
  for (let k = firstOctave; k < OCTAVES; k++) {
    const x = t / scale;
    const i = floor(x);
    const a = lattice(key, k, i);
    const b = lattice(key, k, i + 1);
    sum += AMPS[k]! * (a + (b - a) * (x - i));
    scale *= 2;
  }
  return sum;
}

/** The USD price of `coin` at epoch-ms `t`. */
export function priceUsdAt(coin: Coin, t: number): number {
  return exp(coin.baseLogPrice + coin.dailyVol * noise(coin.key, t, 0));
}

/** The USD market cap at `t`, or NaN for coins without one. */
export function marketCapUsdAt(coin: Coin, t: number, price = priceUsdAt(coin, t)): number {
  return coin.capKind === 'normal' ? price * coin.circulating : Number.NaN;
}

/** Rolling 24 h USD volume at `t`: a drifting fraction of the (notional) market cap. */
export function volumeUsdAt(coin: Coin, t: number, price = priceUsdAt(coin, t)): number {
  const notionalSupply = coin.capKind === 'normal' ? coin.circulating : (coin.total ?? 1e6);
  const wiggle = exp(0.08 * noise(coin.key ^ VOLUME_KEY_SALT, t, VOLUME_FIRST_OCTAVE));
  return price * notionalSupply * coin.volumeRatio * wiggle;
}

/** Everything about one step that ranking and ordering need, for all coins at once. */
export interface StepData {
  step: number;
  lastUpdatedMs: Float64Array;
  priceUsd: Float64Array;
  /** NaN for coins without a market cap. */
  capUsd: Float64Array;
  volumeUsd: Float64Array;
  /** 1-based market-cap rank, 0 when unranked. */
  rank: Int32Array;
  /** Coin indices by market cap, largest first, unranked coins last. */
  byCapDesc: Int32Array;
}

/** Step-wise view of the universe; caches the full ranking of the last few steps. */
export class Market {
  private readonly stale: Uint8Array;
  private readonly cache = new Map<number, StepData>();

  constructor(
    readonly coins: readonly Coin[],
    readonly stepMs: number,
    seed: number,
    staleFraction: number,
  ) {
    this.stale = Uint8Array.from(coins, (c) => (unitOf(seed, c.index, 0x57a1e) < staleFraction ? 1 : 0));
  }

  stepOf(t: number): number {
    return floor(t / this.stepMs);
  }

  isStale(coin: Coin): boolean {
    return this.stale[coin.index] === 1;
  }

  /**
   * When the coin's data served during `step` was last refreshed: at its phase inside the previous
   * step. So it is never in the future, it is identical for every request within a step (like
   * CoinGecko's edge cache), and every step brings a new value (every 10th step for stale coins).
   */
  lastUpdatedMs(coin: Coin, step: number): number {
    const effective = this.isStale(coin) ? floor(step / 10) * 10 : step;
    return (effective - 1) * this.stepMs + floor(coin.updatePhase * this.stepMs);
  }

  /** Data of every coin as served at time `t` (cached per step). */
  at(t: number): StepData {
    const step = this.stepOf(t);
    const hit = this.cache.get(step);
    if (hit) return hit;
    const data = this.compute(step);
    this.cache.set(step, data);
    // A handful of steps covers requests straddling a boundary and tests peeking at neighbours.
    if (this.cache.size > 6) this.cache.delete(this.cache.keys().next().value!);
    return data;
  }

  private compute(step: number): StepData {
    const n = this.coins.length;
    const lastUpdatedMs = new Float64Array(n);
    const priceUsd = new Float64Array(n);
    const capUsd = new Float64Array(n);
    const volumeUsd = new Float64Array(n);
    for (const coin of this.coins) {
      const t = this.lastUpdatedMs(coin, step);
      const price = priceUsdAt(coin, t);
      lastUpdatedMs[coin.index] = t;
      priceUsd[coin.index] = price;
      capUsd[coin.index] = marketCapUsdAt(coin, t, price);
      volumeUsd[coin.index] = volumeUsdAt(coin, t, price);
    }
    const byCapDesc = Int32Array.from(this.coins, (c) => c.index).sort((a, b) => compareCapDesc(capUsd, a, b));
    const rank = new Int32Array(n);
    byCapDesc.forEach((index, position) => {
      if (!isNaN_(capUsd[index]!)) rank[index] = position + 1;
    });
    return { step, lastUpdatedMs, priceUsd, capUsd, volumeUsd, rank, byCapDesc };
  }
}

/** Larger caps first; coins without a cap last; ties by universe order so sorting is total. */
export function compareCapDesc(cap: Float64Array, a: number, b: number): number {
  const ca = cap[a]!;
  const cb = cap[b]!;
  const na = isNaN_(ca);
  const nb = isNaN_(cb);
  if (na || nb) return na === nb ? a - b : na ? 1 : -1;
  return cb - ca || a - b;
}

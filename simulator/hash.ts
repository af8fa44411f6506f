/**
 * Fast, non-cryptographic hashing and a seeded PRNG. Everything the simulator makes up is derived
 * from these, so that one seed always yields the same universe, prices and faults.
 */

// Module-level aliases: global lookups are ~100x slower inside vm contexts (jest), and these are hot.
const { imul, floor, sqrt, log, cos, max } = Math;

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units, finalised; `salt` separates independent streams. */
export function hashString(text: string, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Combines integers into one well-mixed 32-bit hash (order matters). */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    // Values may exceed 32 bits (lattice indices, epoch ms): fold the high part in too.
    h = fmix32(h ^ (v >>> 0));
    h = fmix32(h ^ floor(v / 4294967296));
  }
  return h;
}

/** A uniform number in [0, 1) from a 32-bit hash. */
export function unit(hash: number): number {
  return hash / 4294967296;
}

/** A uniform number in [0, 1) determined by the given integers. */
export function unitOf(...values: number[]): number {
  return unit(hashInts(...values));
}

/** mulberry32: a tiny seeded PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller) from a uniform source. */
export function gaussian(random: () => number): number {
  const u = max(random(), 1e-12);
  const v = random();
  return sqrt(-2 * log(u)) * cos(2 * Math.PI * v);
}

/**
 * Splits a tick's coin ids into /coins/markets calls. A batch holds at most `maxIds` ids (CoinGecko
 * pages at 250) and its `ids=` query stays under `maxIdsBytes` once URL-encoded, because long id
 * lists hit HTTP 414 before any documented count limit. Ids are de-duplicated first, so one coin
 * sits in exactly one batch and cannot be loaded twice in a tick.
 */
export function planBatches(coinIds: readonly string[], limits: { maxIds: number; maxIdsBytes: number }): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const id of new Set(coinIds)) {
    const size = encodeURIComponent(id).length + (current.length > 0 ? 3 : 0); // "%2C" separator
    if (current.length > 0 && (current.length >= limits.maxIds || bytes + size > limits.maxIdsBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(id);
    bytes += current.length === 1 ? encodeURIComponent(id).length : size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Room left for `ids=` in a URL of `maxUrlBytes` after the base URL and the other parameters. */
export function idsBudget(baseUrl: string, maxUrlBytes: number): number {
  const fixed = `${baseUrl}/coins/markets?vs_currency=xxxxxxxxxx&ids=&per_page=250&page=1&price_change_percentage=1h%2C24h%2C7d`;
  return Math.max(64, maxUrlBytes - fixed.length);
}

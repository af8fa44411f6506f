import { idsBudget, planBatches } from '../../../producers/tick/plan-batches.js';

const idsBytes = (batch: readonly string[]) => encodeURIComponent(batch.join(',')).length;

describe(planBatches.name, () => {
  it('returns no batches for no ids', () => {
    expect(planBatches([], { maxIds: 250, maxIdsBytes: 4000 })).toEqual([]);
  });

  it('cuts batches at maxIds, keeping order', () => {
    const ids = Array.from({ length: 7 }, (_, i) => `c${i}`);
    expect(planBatches(ids, { maxIds: 3, maxIdsBytes: 4000 })).toEqual([
      ['c0', 'c1', 'c2'],
      ['c3', 'c4', 'c5'],
      ['c6'],
    ]);
  });

  it('keeps the URL-encoded ids= value within maxIdsBytes', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `a-very-long-coin-identifier-${String(i).padStart(2, '0')}`); // 31 bytes
    const batches = planBatches(ids, { maxIds: 250, maxIdsBytes: 100 });
    // 31 + 3 + 31 = 65 fits, + 3 + 31 = 99 fits, a fourth would be 133.
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 3]);
    for (const batch of batches) expect(idsBytes(batch)).toBeLessThanOrEqual(100);
  });

  it('counts the bytes of ids that need percent-encoding', () => {
    const ids = ['wrapped-bitcoin', 'usd+', 'a b', 'eth/2'];
    const batches = planBatches(ids, { maxIds: 250, maxIdsBytes: 24 });
    for (const batch of batches) expect(idsBytes(batch)).toBeLessThanOrEqual(24);
    expect(batches.flat()).toEqual(ids);
  });

  it('fills a batch exactly up to the budget', () => {
    expect(planBatches(['aaaa', 'bbbb', 'cccc'], { maxIds: 250, maxIdsBytes: 11 })).toEqual([
      ['aaaa', 'bbbb'],
      ['cccc'],
    ]);
    expect(planBatches(['aaaa', 'bbbb', 'cccc'], { maxIds: 250, maxIdsBytes: 10 })).toEqual([
      ['aaaa'],
      ['bbbb'],
      ['cccc'],
    ]);
  });

  it('gives an id longer than the budget a batch of its own rather than dropping it', () => {
    expect(planBatches(['short', 'x'.repeat(50), 'tiny'], { maxIds: 250, maxIdsBytes: 20 })).toEqual([
      ['short'],
      ['x'.repeat(50)],
      ['tiny'],
    ]);
  });

  it('de-duplicates, so every id lands in exactly one batch, in first-seen order', () => {
    const ids = ['bitcoin', 'ethereum', 'bitcoin', 'tether', 'ethereum', 'solana'];
    const batches = planBatches(ids, { maxIds: 2, maxIdsBytes: 4000 });
    expect(batches).toEqual([
      ['bitcoin', 'ethereum'],
      ['tether', 'solana'],
    ]);
  });

  it('places each of 10 000 mixed ids exactly once within both limits', () => {
    let seed = 1;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const ids = Array.from({ length: 10_000 }, (_, i) => `coin-${i}-${'z'.repeat(Math.floor(random() * 60))}`);
    const withDuplicates = [...ids, ...ids.slice(0, 500)];
    const batches = planBatches(withDuplicates, { maxIds: 250, maxIdsBytes: 3000 });
    expect(batches.flat()).toEqual(ids);
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(250);
      expect(idsBytes(batch)).toBeLessThanOrEqual(3000);
    }
  });
});

describe(idsBudget.name, () => {
  it('leaves room for the base URL and the other parameters', () => {
    const baseUrl = 'https://api.coingecko.com/api/v3';
    const budget = idsBudget(baseUrl, 4000);
    const url = `${baseUrl}/coins/markets?vs_currency=usd&ids=${'x'.repeat(budget)}&per_page=250&page=1&price_change_percentage=1h%2C24h%2C7d`;
    expect(url.length).toBeLessThanOrEqual(4000);
    expect(budget).toBeGreaterThan(3800);
  });

  it('never drops below 64 bytes', () => {
    expect(idsBudget('https://example.com/api/v3', 100)).toBe(64);
  });
});

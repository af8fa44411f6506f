import { upsertUniverse } from '../../../producers/universe/upsert-universe.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe(upsertUniverse.name, () => {
  let db: TestDatabase;
  const coins = async () =>
    (await db.pool.query('select coin_id, symbol, market_cap_rank, is_active from raw.coins order by coin_id')).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('inserts the listed coins with their ranks', async () => {
    const outcome = await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
        { id: 'dogecoin', symbol: 'doge', name: 'Dogecoin' },
      ],
      [
        { id: 'bitcoin', rank: 1 },
        { id: 'ethereum', rank: 2 },
      ],
      true,
    );
    expect(outcome).toEqual({ coins: 3, ranked: 2, deactivated: 0 });
    expect(await coins()).toEqual([
      { coin_id: 'bitcoin', symbol: 'btc', market_cap_rank: 1, is_active: true },
      { coin_id: 'dogecoin', symbol: 'doge', market_cap_rank: null, is_active: true },
      { coin_id: 'ethereum', symbol: 'eth', market_cap_rank: 2, is_active: true },
    ]);
  });

  it('keeps the best rank of a coin that moved between ranking pages while they were fetched', async () => {
    await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
        { id: 'dogecoin', symbol: 'doge', name: 'Dogecoin' },
      ],
      [
        { id: 'bitcoin', rank: 1 },
        { id: 'dogecoin', rank: 250 },
        { id: 'dogecoin', rank: 251 },
        { id: 'ethereum', rank: 2 },
      ],
      true,
    );
    expect((await coins()).find((c) => c.coin_id === 'dogecoin')?.market_cap_rank).toBe(250);
  });

  it('deactivates delisted coins and clears ranks that fell out of a complete ranking', async () => {
    const outcome = await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
      ],
      [{ id: 'bitcoin', rank: 1 }],
      true,
    );
    expect(outcome.deactivated).toBe(1);
    expect(await coins()).toEqual([
      { coin_id: 'bitcoin', symbol: 'btc', market_cap_rank: 1, is_active: true },
      { coin_id: 'dogecoin', symbol: 'doge', market_cap_rank: null, is_active: false },
      { coin_id: 'ethereum', symbol: 'eth', market_cap_rank: null, is_active: true },
    ]);
  });

  it('keeps a recent rank of a coin missing from a complete ranking (it slipped between pages)', async () => {
    await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
      ],
      [
        { id: 'bitcoin', rank: 1 },
        { id: 'ethereum', rank: 2 },
      ],
      true,
    );
    await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
      ],
      [{ id: 'bitcoin', rank: 1 }],
      true,
      3_600_000,
    );
    expect((await coins()).filter((c) => c.is_active).map((c) => [c.coin_id, c.market_cap_rank])).toEqual([
      ['bitcoin', 1],
      ['ethereum', 2],
    ]);
  });

  it('keeps old ranks after a partial ranking (a page failed)', async () => {
    await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
      ],
      [{ id: 'ethereum', rank: 2 }],
      true,
    );
    await upsertUniverse(
      db.pool,
      [
        { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin' },
        { id: 'ethereum', symbol: 'eth', name: 'Ethereum' },
      ],
      [{ id: 'bitcoin', rank: 1 }],
      false,
    );
    expect((await coins()).filter((c) => c.is_active).map((c) => [c.coin_id, c.market_cap_rank])).toEqual([
      ['bitcoin', 1],
      ['ethereum', 2],
    ]);
  });
});

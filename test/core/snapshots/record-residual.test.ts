import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES, MIGRATIONS, runMigrations } from '../../../core/db/data-source.js';
import { recordPlannedRun } from '../../../core/pipeline/run-ledger.js';
import { recordResidual, REPLAYED_KEYS } from '../../../core/snapshots/record-residual.js';
import { startSimulator } from '../../../simulator/server.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { databaseUrl, TEST_PG_ADMIN_URL } from '../../helpers/env.js';
import { loadSnapshotBatch } from '../../helpers/snapshot-loads.js';

const AT = '2026-11-27T08:00:00.000Z';

/** A record as CoinGecko shapes it, every documented key present; `patch` edits it (undefined removes a key). */
function coin(id: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id,
    symbol: id.slice(0, 3),
    name: id,
    image: `https://coin-images.coingecko.com/coins/images/1/large/${id}.png?1696501400`,
    current_price: 61209.1,
    market_cap: 1206554728933,
    market_cap_rank: 1,
    fully_diluted_valuation: null,
    total_volume: 81982571706,
    high_24h: 63143.2,
    low_24h: 60461.6,
    price_change_24h: -1859.1124778594021,
    price_change_percentage_24h: -2.94778,
    market_cap_change_24h: -36646825164,
    market_cap_change_percentage_24h: -2.94778,
    circulating_supply: 19712000,
    total_supply: 19712000,
    max_supply: null,
    ath: 108786,
    ath_change_percentage: -43.73435,
    ath_date: '2025-01-20T09:11:54.494Z',
    atl: 67.81,
    atl_change_percentage: 90165.6661,
    atl_date: '2013-07-06T00:00:00.000Z',
    roi: null,
    last_updated: AT,
    price_change_percentage_1h_in_currency: 0.2315086623,
    price_change_percentage_24h_in_currency: -1.1909398261,
    price_change_percentage_7d_in_currency: -7.0447815502,
  };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** Records whose every part must come back: each `it` below names what it is about. */
const CASES: Record<string, () => string> = {
  'nulls, and roi null': () => JSON.stringify(coin('nulls', { market_cap: null, market_cap_rank: null, ath: null })),
  'roi as an object, its keys in another order': () =>
    JSON.stringify(coin('roi', { roi: { currency: 'btc', percentage: 9069.55630526977, times: 90.69556305269772 } })),
  'a roi object with a key more': () =>
    JSON.stringify(coin('roi-more', { roi: { times: 1.5, currency: 'eth', percentage: 150, since: '2017' } })),
  'unknown keys of every JSON type, and documented ones without a column': () =>
    JSON.stringify(
      coin('extra', {
        market_cap_rank_with_rehypothecated: 7,
        sparkline_in_7d: { price: [1.5, null, 2e-9] },
        price_change_percentage_30d_in_currency: -3.5,
        brand_new: { nested: [1, 'two', null, true, { deep: -0.5 }] },
        flag: false,
        nothing: null,
        '': 'empty key',
      }),
    ),
  'a key named __proto__': () => `{"__proto__":{"x":1},${JSON.stringify(coin('proto')).slice(1)}`,
  'numbers: tiny, exponents, big integers': () =>
    `{${JSON.stringify(coin('numbers', { current_price: 1e-8, atl: 1.50936e-7 }))
      .slice(1, -1)
      .replace('"market_cap":1206554728933', '"market_cap":12345678901234567890')
      .replace('"high_24h":63143.2', '"high_24h":6.31432E+4')
      .replace('"low_24h":60461.6', '"low_24h":6046160E-2')},"huge":123456789012345678901234567890,"small":1.0E-300}`,
  'strings with quotes, backslashes, tabs, newlines, unicode and an escaped NUL': () =>
    JSON.stringify(
      coin('strings', {
        name: 'XRP "Ξ" — \\ \t\n 🟡 “quoted”',
        symbol: 'é\u00e9',
        image: 'a\\b\tc',
        note: 'nul \u0000 inside, and \u2028',
      }),
    ),
  'keys missing, and present as null': () =>
    JSON.stringify(
      coin('missing', {
        image: undefined,
        market_cap: undefined,
        roi: undefined,
        price_change_percentage_1h_in_currency: undefined,
        price_change_percentage_24h_in_currency: undefined,
        price_change_percentage_7d_in_currency: undefined,
        total_supply: null,
      }),
    ),
  'timestamps not written as CoinGecko writes them': () =>
    JSON.stringify(
      coin('timestamps', {
        ath_date: '2021-11-10T14:24:19Z',
        atl_date: '2015-10-20T00:00:00.000+00:00',
        last_updated: '2026-11-27T08:00:00.123456Z',
      }),
    ),
  'only the required keys': () => JSON.stringify({ id: 'bare', symbol: 'b', name: 'Bare', last_updated: AT }),
};

describe('raw.replay_record', () => {
  let db: TestDatabase;
  let loaders: pg.Pool;
  let runs = 0;

  async function load(texts: readonly string[]): Promise<string> {
    const runId = `mreplay${runs++}`;
    const items = texts.map((t) => JSON.parse(t) as Record<string, unknown>);
    await recordPlannedRun(db.pool, {
      runId,
      trigger: 'manual',
      scheduledAt: null,
      batches: [items.map((i) => String(i.id))],
    });
    const outcome = await loadSnapshotBatch(loaders, { runId, batchNo: 0, vsCurrency: 'usd', items, texts });
    expect(outcome).toMatchObject({ rowsLoaded: texts.length, recordsRejected: 0 });
    return runId;
  }

  /** Each row's replayed record as JSON text, by coin, read in a session whose float output is rounded. */
  async function replayed(runId: string): Promise<Map<string, string>> {
    const client = await db.pool.connect();
    try {
      await client.query('set extra_float_digits = -3');
      const { rows } = await client.query<{ coin_id: string; record: string }>(
        'select coin_id, raw.replay_record(s)::text as record from raw.coin_market_snapshots s where run_id = $1',
        [runId],
      );
      return new Map(rows.map((r) => [r.coin_id, r.record]));
    } finally {
      await client.query('reset extra_float_digits');
      client.release();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    loaders = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await loaders.end();
    await db.drop();
  });

  it.each(Object.keys(CASES))('gives back the record as sent: %s', async (name) => {
    const text = CASES[name]!();
    const sent = JSON.parse(text) as Record<string, unknown>;
    const runId = await load([text]);
    const back = (await replayed(runId)).get(String(sent.id));
    expect(back).toBeDefined();
    expect(JSON.parse(back!)).toStrictEqual(sent);
    // Postgres cannot take apart a string holding \u0000 (json_object_keys, jsonb): those checks skip it.
    if (!text.includes('\\u0000')) {
      // Each key once: a parser keeping the last of two would hide a typed key written twice.
      const { rows: keys } = await db.pool.query<{ n: number; distinct: number }>(
        `select count(k)::int as n, count(distinct k)::int as distinct
           from raw.coin_market_snapshots s, json_object_keys(raw.replay_record(s)) k where run_id = $1`,
        [runId],
      );
      expect(keys).toEqual([{ n: Object.keys(sent).length, distinct: Object.keys(sent).length }]);
      // Equal in Postgres too, where jsonb compares numbers as exact decimals.
      const { rows } = await db.pool.query<{ equal: boolean }>(
        'select raw.replay_record(s)::jsonb = $2::jsonb as equal from raw.coin_market_snapshots s where run_id = $1',
        [runId, JSON.stringify(sent)],
      );
      expect(rows).toEqual([{ equal: true }]);
    }
  });

  it('gives back every realistic record of a simulated market, keeping only the image and unknown keys besides the columns', async () => {
    const simulator = await startSimulator({ coins: 500 });
    try {
      const items = simulator.control
        .marketsSnapshot(simulator.control.universeIds())
        .map((i): Record<string, unknown> => ({ ...i, last_updated: '2026-11-27T09:00:00.000Z' }));
      expect(items.some((i) => i.roi !== null) && items.some((i) => i.fully_diluted_valuation === null)).toBe(true);
      const texts = items.map((i) => JSON.stringify(i));
      const back = await replayed(await load(texts));
      expect(back.size).toBe(items.length);
      for (const item of items) expect(JSON.parse(back.get(String(item.id))!)).toStrictEqual(item);
      const { rows } = await db.pool.query<{ keys: string[] }>(
        `select array_agg(distinct k order by k) as keys
           from raw.coin_market_snapshots s, json_object_keys(s.record_extra) k
          where s.last_updated = '2026-11-27T09:00:00.000Z'`,
      );
      expect(rows[0]!.keys).toEqual(['image']);
    } finally {
      await simulator.close();
    }
  });

  it('writes the keys a record lacks as bits in REPLAYED_KEYS order, and the rest of it as extra', () => {
    const residual = recordResidual(coin('x', { roi: undefined, market_cap: undefined, last_updated: AT }));
    expect(residual.untyped).toBe((1 << REPLAYED_KEYS.indexOf('roi')) | (1 << REPLAYED_KEYS.indexOf('market_cap')));
    expect(JSON.parse(residual.extra)).toEqual({ image: expect.any(String) });
    expect(recordResidual(coin('x', { image: undefined }))).toEqual({ extra: '{}', untyped: null });
  });
});

describe('migration ReplayableRawRecords1765500000000', () => {
  const name = `cdp_t_${randomBytes(5).toString('hex')}`;
  const url = databaseUrl(name);
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database ${name}`);
  });
  afterAll(async () => {
    await admin.query(`drop database if exists ${name}`);
    await admin.end();
  });

  it('keeps rows loaded before it replayable, as they were stored, beside rows loaded after', async () => {
    // The schema as it was before this migration.
    const before = new DataSource({
      type: 'postgres',
      url,
      entities: ENTITIES,
      migrations: MIGRATIONS.filter((m) => m.name !== 'ReplayableRawRecords1765500000000'),
      migrationsTableName: 'typeorm_migrations',
    });
    await before.initialize();
    try {
      await before.runMigrations({ transaction: 'each' });
    } finally {
      await before.destroy();
    }
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await pool.query("select raw.ensure_snapshot_partitions('2026-11-27', '2026-11-27')");
      const old = JSON.stringify(coin('old', { unknown_then: [1, 2] }));
      await pool.query(
        `insert into raw.coin_market_snapshots (coin_id, vs_currency, last_updated, run_id, batch_no, symbol, name, current_price, record)
         values ('old', 'usd', $1, 'mold', 0, 'old', 'old', 61209.1, $2)`,
        [AT, old],
      );
      expect(await runMigrations(url)).toEqual(['ReplayableRawRecords1765500000000']);

      await recordPlannedRun(pool, { runId: 'mnew', trigger: 'manual', scheduledAt: null, batches: [['new']] });
      const fresh = JSON.stringify(coin('new'));
      await loadSnapshotBatch(pool, {
        runId: 'mnew',
        batchNo: 0,
        vsCurrency: 'usd',
        items: [JSON.parse(fresh)],
        texts: [fresh],
      });
      const { rows } = await pool.query<{ coin_id: string; record: string; whole: boolean }>(
        `select coin_id, raw.replay_record(s)::text as record, s.record is not null as whole
           from raw.coin_market_snapshots s order by coin_id`,
      );
      expect(rows.map((r) => [r.coin_id, r.whole])).toEqual([
        ['new', false],
        ['old', true],
      ]);
      // The old row's record comes back byte for byte: it is the stored text.
      expect(rows[1]!.record).toBe(old);
      expect(JSON.parse(rows[0]!.record)).toStrictEqual(JSON.parse(fresh));
    } finally {
      await pool.end();
    }
  });
});

import {
  MARKET_FIELDS,
  validateMarketRecord,
  type MarketRecord,
  type MarketRecordResult,
} from '../../../core/coingecko/market-record.js';

/** The illustrative item of shared/reference/coingecko-api.md §3.3. */
function ethereum(): Record<string, unknown> {
  return {
    id: 'ethereum',
    symbol: 'eth',
    name: 'Ethereum',
    image: 'https://coin-images.coingecko.com/coins/images/279/large/ethereum.png?1696501628',
    current_price: 3421.57,
    market_cap: 411862775913,
    market_cap_rank: 2,
    fully_diluted_valuation: 411862775913,
    total_volume: 18254117302,
    high_24h: 3478.12,
    low_24h: 3366.05,
    price_change_24h: -41.2387654321,
    price_change_percentage_24h: -1.19094,
    market_cap_change_24h: -4925376218.51,
    market_cap_change_percentage_24h: -1.18171,
    circulating_supply: 120373214.51,
    total_supply: 120373214.51,
    max_supply: null,
    ath: 4878.26,
    ath_change_percentage: -29.86112,
    ath_date: '2021-11-10T14:24:19.604Z',
    atl: 0.432979,
    atl_change_percentage: 790113.44871,
    atl_date: '2015-10-20T00:00:00.000Z',
    roi: { times: 47.79133, currency: 'btc', percentage: 4779.133 },
    last_updated: '2024-06-12T09:41:07.318Z',
    sparkline_in_7d: { price: [3681.06, 3675.92, 3690.44] },
    price_change_percentage_1h_in_currency: 0.2315086623,
    price_change_percentage_24h_in_currency: -1.1909398261,
    price_change_percentage_7d_in_currency: -7.0447815502,
  };
}

function valid(result: MarketRecordResult): MarketRecord {
  if (!result.ok) throw new Error(`expected a valid record, got: ${result.reason}`);
  return result.record;
}

function reason(result: MarketRecordResult): string {
  if (result.ok) throw new Error('expected the record to be rejected');
  return result.reason;
}

describe(validateMarketRecord.name, () => {
  it('accepts a realistic /coins/markets item and keeps every documented field', () => {
    const source = ethereum();
    const record = valid(validateMarketRecord(source));
    expect(record).toMatchObject({
      id: 'ethereum',
      symbol: 'eth',
      name: 'Ethereum',
      lastUpdated: '2024-06-12T09:41:07.318Z',
      unknownFields: [],
    });
    expect(Object.keys(record.values)).toEqual(Object.keys(MARKET_FIELDS));
    expect(record.values.current_price).toBe(3421.57);
    expect(record.values.roi).toEqual({ times: 47.79133, currency: 'btc', percentage: 4779.133 });
    expect(record.source).toBe(source);
  });

  it('accepts null wherever CoinGecko documents null', () => {
    const nullable = Object.entries(MARKET_FIELDS)
      .filter(([, spec]) => !spec.required)
      .map(([name]) => name);
    expect(nullable).toEqual(
      expect.arrayContaining([
        'current_price',
        'market_cap_rank',
        'fully_diluted_valuation',
        'max_supply',
        'roi',
        'ath_date',
      ]),
    );
    const item = ethereum();
    for (const name of nullable) item[name] = null;
    const record = valid(validateMarketRecord(item));
    for (const name of nullable) expect(record.values[name]).toBeNull();
  });

  it('fills missing optional fields with null', () => {
    const item = ethereum();
    delete item.image;
    delete item.sparkline_in_7d;
    delete item.price_change_percentage_7d_in_currency;
    delete item.roi;
    const record = valid(validateMarketRecord(item));
    expect(record.values).toMatchObject({
      image: null,
      sparkline_in_7d: null,
      price_change_percentage_7d_in_currency: null,
      roi: null,
      market_cap_rank_with_rehypothecated: null,
    });
  });

  it('accepts exponent-notation numbers as parsed from the raw JSON', () => {
    const body =
      '{"id":"dogecoin","symbol":"doge","name":"Dogecoin","current_price":3.15e-06,"market_cap":417916,' +
      '"market_cap_rank":10,"fully_diluted_valuation":null,"total_volume":27498,"high_24h":3.26e-06,' +
      '"low_24h":3.13e-06,"price_change_24h":-8.6889947714e-08,"price_change_percentage_24h":-2.68533,' +
      '"circulating_supply":132670764299.894,"total_supply":null,"max_supply":null,"ath":1.264e-05,' +
      '"atl":1.50936e-07,"roi":null,"last_updated":"2022-08-22T16:38:15.113Z"}';
    const record = valid(validateMarketRecord(JSON.parse(body)));
    expect(record.values.current_price).toBe(0.00000315);
    expect(record.values.price_change_24h).toBe(-8.6889947714e-8);
    expect(record.values.atl).toBe(1.50936e-7);
  });

  it('accepts huge market caps', () => {
    const record = valid(
      validateMarketRecord({ ...ethereum(), market_cap: 1e20, fully_diluted_valuation: 1.5e20, total_volume: 9.9e19 }),
    );
    expect(record.values.market_cap).toBe(1e20);
  });

  it('accepts timestamps with an offset and sparkline gaps', () => {
    valid(
      validateMarketRecord({
        ...ethereum(),
        last_updated: '2024-06-12T09:41:07+00:00',
        sparkline_in_7d: { price: [1, null, 2] },
      }),
    );
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a price sent as a string',
      { current_price: '3421.57' },
      'current_price: expected number or null, got string "3421.57"',
    ],
    ['a NaN price', { current_price: Number.NaN }, 'current_price: expected number or null, got number NaN'],
    [
      'an infinite market cap',
      { market_cap: Number.POSITIVE_INFINITY },
      'market_cap: expected number or null, got number Infinity',
    ],
    ['a boolean volume', { total_volume: true }, 'total_volume: expected number or null, got boolean true'],
    ['a negative price', { current_price: -0.01 }, 'current_price: negative (-0.01)'],
    ['a negative supply', { circulating_supply: -5 }, 'circulating_supply: negative (-5)'],
    [
      'a non-integer rank',
      { market_cap_rank: 2.5 },
      'market_cap_rank: expected positive integer or null, got number 2.5',
    ],
    ['a zero rank', { market_cap_rank: 0 }, 'market_cap_rank: expected positive integer or null, got number 0'],
    [
      'a date without time',
      { ath_date: '2021-11-10' },
      'ath_date: expected ISO-8601 timestamp, got string "2021-11-10"',
    ],
    [
      'an impossible date',
      { last_updated: '2024-13-45T09:41:07.318Z' },
      'last_updated: expected ISO-8601 timestamp, got string "2024-13-45T09:41:07.318Z"',
    ],
    [
      'an epoch-number date',
      { atl_date: 1444867200000 },
      'atl_date: expected ISO-8601 timestamp, got number 1444867200000',
    ],
    [
      'a roi with a string times',
      { roi: { times: '47.8', currency: 'btc', percentage: 4779.1 } },
      'roi: expected {times: number, currency: string, percentage: number}',
    ],
    ['a roi array', { roi: [] }, 'roi: expected object or null, got array'],
    ['a roi string', { roi: '47x' }, 'roi: expected object or null, got string "47x"'],
    ['a sparkline of strings', { sparkline_in_7d: { price: ['1'] } }, 'sparkline_in_7d: expected {price: number[]}'],
    ['a missing id', { id: undefined }, 'id: missing'],
    ['a null last_updated', { last_updated: null }, 'last_updated: missing'],
    ['a blank symbol', { symbol: '  ' }, 'symbol: empty'],
    ['a numeric name', { name: 42 }, 'name: expected string, got number 42'],
    ['an overlong id', { id: 'x'.repeat(201) }, 'id: longer than 200 characters'],
  ])('rejects %s with a reason naming the field', (_what, patch, expected) => {
    const item = { ...ethereum(), ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete item[k];
    expect(reason(validateMarketRecord(item))).toBe(expected);
  });

  it.each([
    ['null', null, 'record: expected object, got null'],
    ['an array', [ethereum()], 'record: expected object, got array'],
    ['a string', 'ethereum', 'record: expected object, got string "ethereum"'],
    ['a number', 42, 'record: expected object, got number 42'],
  ])('rejects %s as a record', (_what, source, expected) => {
    expect(validateMarketRecord(source)).toEqual({ ok: false, coinId: null, reason: expected, source });
  });

  it('lists every problem of a record together and keeps its coin id', () => {
    const result = validateMarketRecord({
      ...ethereum(),
      current_price: '1',
      market_cap_rank: -3,
      ath_date: 'yesterday',
      roi: 5,
      last_updated: undefined,
    });
    expect(result).toMatchObject({ ok: false, coinId: 'ethereum' });
    expect(reason(result).split('; ')).toEqual([
      'current_price: expected number or null, got string "1"',
      'market_cap_rank: expected positive integer or null, got number -3',
      'ath_date: expected ISO-8601 timestamp, got string "yesterday"',
      'roi: expected object or null, got number 5',
      'last_updated: missing',
    ]);
  });

  it('gives no coin id when the id itself is unusable', () => {
    expect(validateMarketRecord({ ...ethereum(), id: 7 })).toMatchObject({ ok: false, coinId: null });
    expect(validateMarketRecord({ ...ethereum(), id: 'x'.repeat(201) })).toMatchObject({ ok: false, coinId: null });
  });

  it('truncates long bad values in the reason', () => {
    expect(reason(validateMarketRecord({ ...ethereum(), current_price: 'y'.repeat(100) }))).toBe(
      `current_price: expected number or null, got string "${'y'.repeat(40)}…"`,
    );
  });

  it('reports fields the documented schema does not have in unknownFields', () => {
    const record = valid(
      validateMarketRecord({ ...ethereum(), price_change_percentage_1h: 0.1, market_cap_dominance: 17.2 }),
    );
    expect(record.unknownFields).toEqual(['price_change_percentage_1h', 'market_cap_dominance']);
    expect(record.values).not.toHaveProperty('market_cap_dominance');
  });
});

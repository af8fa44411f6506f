import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * raw.coin_market_snapshots stops storing every record twice. A row loaded from now on keeps in
 * `record_extra` only what its typed columns do not reproduce (the image URL, undocumented keys, …)
 * and in `record_untyped` which typed keys the record lacked (core/snapshots/record-residual.ts);
 * `record` is left null. Rows loaded before keep the whole record in `record` and are not rewritten
 * (rewriting a month of partitions would take hours of I/O and locks; retention drops them in time).
 * raw.replay_record(row) gives either form back as JSON.
 *
 * The columns are added on the parent, so every partition has them, and partitions made later copy
 * the parent (`like … including all` in raw.ensure_snapshot_partitions, which needs no change).
 * Adding nullable columns without a default and dropping NOT NULL touch only the catalog.
 */
const iso = (column: string) => `to_char(s.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Each key raw.replay_record writes from the typed columns, its bit (position) and its value; frozen here as migrated. */
const TYPED_KEYS: readonly (readonly [key: string, value: string])[] = [
  ['id', 's.coin_id'],
  ['symbol', 's.symbol'],
  ['name', 's.name'],
  ...[
    'current_price',
    'market_cap',
    'market_cap_rank',
    'fully_diluted_valuation',
    'total_volume',
    'high_24h',
    'low_24h',
    'price_change_24h',
    'price_change_percentage_24h',
    'market_cap_change_24h',
    'market_cap_change_percentage_24h',
    'circulating_supply',
    'total_supply',
    'max_supply',
    'ath',
    'ath_change_percentage',
  ].map((c) => [c, `s.${c}`] as const),
  ['ath_date', iso('ath_date')],
  ['atl', 's.atl'],
  ['atl_change_percentage', 's.atl_change_percentage'],
  ['atl_date', iso('atl_date')],
  [
    'roi',
    `case when s.roi_currency is not null then json_build_object('times', s.roi_times, 'currency', s.roi_currency, 'percentage', s.roi_percentage) end`,
  ],
  ['last_updated', iso('last_updated')],
  ['price_change_percentage_1h_in_currency', 's.price_change_percentage_1h_in_currency'],
  ['price_change_percentage_24h_in_currency', 's.price_change_percentage_24h_in_currency'],
  ['price_change_percentage_7d_in_currency', 's.price_change_percentage_7d_in_currency'],
];

export class ReplayableRawRecords1765500000000 implements MigrationInterface {
  name = 'ReplayableRawRecords1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table raw.coin_market_snapshots
        alter column record drop not null,
        add column record_extra json,
        add column record_untyped integer;
      -- record: the record as sent, rows loaded before this migration only. record_extra: the keys the
      -- typed columns do not reproduce (JSON object). record_untyped: bit n set, raw.replay_record does
      -- not write its n-th key from its column (the record lacked it, or record_extra holds it).
      -- (Column comments would make TypeORM's schema diff, test/core/db/entities-match-migrations, see drift.)

      -- The key order and bit positions are REPLAYED_KEYS' in core/snapshots/record-residual.ts.
      -- One expression building the text, cast to json once: building a json value and taking it
      -- apart again per key, in a SQL function, cost ~100 µs a row; this ~25. plpgsql because a
      -- SQL function with SET is planned again on every call. extra_float_digits 1: float8 as its
      -- shortest exact text whatever the session set, so every number comes back as the double that
      -- was stored. record_extra is appended as text, never parsed: Postgres stores a string holding
      -- \\u0000 in json but cannot take it apart.
      create function raw.replay_record(s raw.coin_market_snapshots) returns json
      language plpgsql stable parallel safe set extra_float_digits = 1 as $fn$
      begin
        return case when s.record is not null then s.record else (
          '{' || concat_ws(', ',
                   nullif(concat_ws(', ',
                     ${TYPED_KEYS.map(
                       ([key, value], bit) =>
                         `case when coalesce(s.record_untyped, 0) & ${1 << bit} = 0 then '"${key}": ' || coalesce(to_json(${value})::text, 'null') end`,
                     ).join(',\n                     ')}
                   ), ''),
                   nullif(btrim(substr(btrim(s.record_extra::text), 2, length(btrim(s.record_extra::text)) - 2)), '')
                 ) || '}'
        )::json end;
      end
      $fn$;
      comment on function raw.replay_record(raw.coin_market_snapshots) is
        'The record a raw snapshot row was loaded from, as JSON equal to what CoinGecko sent (key order may differ)';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Rows loaded since have no whole record: put it back before NOT NULL can return.
    await q.query(`
      update raw.coin_market_snapshots s set record = raw.replay_record(s) where s.record is null;
      drop function raw.replay_record(raw.coin_market_snapshots);
      alter table raw.coin_market_snapshots
        drop column record_untyped,
        drop column record_extra,
        alter column record set not null;
    `);
  }
}

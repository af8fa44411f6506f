import { MARKET_FIELDS, type FieldKind } from '../coingecko/market-record.js';

/**
 * raw.coin_market_snapshots, declared once for the code: every column, its type, and where a load
 * takes its value from. The COPY column list (SNAPSHOT_COLUMNS), snapshotRow and so the COPY encoder
 * (core/snapshots/snapshot-row.ts, held to snapshotRow by its test) follow from it.
 *
 * What it cannot drive, and is held to it by test/core/snapshots/raw-columns.test.ts instead: the
 * table as the migrations created it (information_schema of a migrated database; migrations are
 * history and stay as written) and the TypeORM entity (core/db/entities/market-snapshot.ts, its
 * metadata). A new column is a migration, a line here and a property there, or that test fails.
 */

/** Column types, as TypeORM's metadata names them (information_schema says `timestamp with time zone`). */
export type RawColumnType = 'text' | 'integer' | 'double precision' | 'timestamptz' | 'json';

/** Where a load takes a column's value from. */
export type RawColumnValue =
  /** MarketRecord.values[field]: a documented CoinGecko field (core/coingecko/market-record.ts), validated. */
  | { readonly field: string }
  /** The batch the record came in (SnapshotContext). */
  | { readonly context: 'runId' | 'batchNo' | 'vsCurrency' }
  /** One member of the roi object; null when roi is. */
  | { readonly roi: 'times' | 'currency' | 'percentage' }
  /** What of the record the typed columns do not reproduce (core/snapshots/record-residual.ts). */
  | { readonly residual: 'extra' | 'untyped' }
  /** Not copied and left null: the whole record, held only by rows loaded before migration 1765500000000. */
  | { readonly legacy: true }
  /** Not copied: Postgres fills in the column's default. */
  | { readonly columnDefault: true };

export interface RawColumn {
  readonly name: string;
  readonly type: RawColumnType;
  readonly nullable: boolean;
  readonly value: RawColumnValue;
}

/** The column type a field of each kind is stored as; roi and sparkline are not stored as one column. */
const FIELD_COLUMN_TYPES: Partial<Record<FieldKind, RawColumnType>> = {
  string: 'text',
  number: 'double precision',
  rank: 'integer',
  'iso-date': 'timestamptz',
};

/** The column holding a CoinGecko field: its type follows the field's kind, NOT NULL exactly when the field is required. */
function field(name: string, column = name): RawColumn {
  const spec = MARKET_FIELDS[name];
  const type = spec && FIELD_COLUMN_TYPES[spec.kind];
  if (spec === undefined || type === undefined)
    throw new Error(`raw-columns: ${name} is not a documented CoinGecko field a column can hold`);
  return { name: column, type, nullable: spec.required !== true, value: { field: name } };
}

/** CoinGecko fields copied verbatim into the raw column of the same name, in CoinGecko's key order. */
export const VERBATIM_FIELDS = [
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
  'ath_date',
  'atl',
  'atl_change_percentage',
  'atl_date',
  'price_change_percentage_1h_in_currency',
  'price_change_percentage_24h_in_currency',
  'price_change_percentage_7d_in_currency',
] as const;

/** Every column of raw.coin_market_snapshots: the copied ones in COPY order, with those not copied (default, legacy) among them. */
export const RAW_SNAPSHOT_COLUMNS: readonly RawColumn[] = [
  field('id', 'coin_id'),
  { name: 'vs_currency', type: 'text', nullable: false, value: { context: 'vsCurrency' } },
  field('last_updated'),
  { name: 'run_id', type: 'text', nullable: false, value: { context: 'runId' } },
  { name: 'batch_no', type: 'integer', nullable: false, value: { context: 'batchNo' } },
  field('symbol'),
  field('name'),
  ...VERBATIM_FIELDS.map((name) => field(name)),
  { name: 'roi_times', type: 'double precision', nullable: true, value: { roi: 'times' } },
  { name: 'roi_currency', type: 'text', nullable: true, value: { roi: 'currency' } },
  { name: 'roi_percentage', type: 'double precision', nullable: true, value: { roi: 'percentage' } },
  { name: 'record', type: 'json', nullable: true, value: { legacy: true } },
  // When the row became visible to readers (the load barrier, core/snapshots/load-barrier.ts).
  { name: 'loaded_at', type: 'timestamptz', nullable: false, value: { columnDefault: true } },
  // Added by migration 1765500000000, so after loaded_at in the table; raw.replay_record() reads them.
  { name: 'record_extra', type: 'json', nullable: true, value: { residual: 'extra' } },
  { name: 'record_untyped', type: 'integer', nullable: true, value: { residual: 'untyped' } },
];

/** The columns a load writes, in COPY order. */
export const COPIED_COLUMNS: readonly RawColumn[] = RAW_SNAPSHOT_COLUMNS.filter(
  (column) => !('columnDefault' in column.value) && !('legacy' in column.value),
);

/** Names of COPIED_COLUMNS: the column list of the COPY statement. */
export const SNAPSHOT_COLUMNS: readonly string[] = COPIED_COLUMNS.map((column) => column.name);

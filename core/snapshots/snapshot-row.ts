import type { MarketRecord } from '../coingecko/market-record.js';

/** CoinGecko fields copied verbatim into the raw column of the same name. */
const VERBATIM_FIELDS = [
  'current_price', 'market_cap', 'market_cap_rank', 'fully_diluted_valuation', 'total_volume',
  'high_24h', 'low_24h', 'price_change_24h', 'price_change_percentage_24h',
  'market_cap_change_24h', 'market_cap_change_percentage_24h',
  'circulating_supply', 'total_supply', 'max_supply',
  'ath', 'ath_change_percentage', 'ath_date', 'atl', 'atl_change_percentage', 'atl_date',
  'price_change_percentage_1h_in_currency', 'price_change_percentage_24h_in_currency', 'price_change_percentage_7d_in_currency',
] as const;

/** Columns of raw.coin_market_snapshots in COPY order (loaded_at takes its default). */
export const SNAPSHOT_COLUMNS = [
  'coin_id', 'vs_currency', 'last_updated', 'run_id', 'batch_no', 'symbol', 'name',
  ...VERBATIM_FIELDS,
  'roi_times', 'roi_currency', 'roi_percentage',
  'record',
] as const;

/** The column values of one validated record, in SNAPSHOT_COLUMNS order. */
export function snapshotRow(record: MarketRecord, context: { runId: string; batchNo: number; vsCurrency: string }): unknown[] {
  const roi = record.values.roi as { times: number; currency: string; percentage: number } | null;
  return [
    record.id, context.vsCurrency, record.lastUpdated, context.runId, context.batchNo, record.symbol, record.name,
    ...VERBATIM_FIELDS.map((field) => record.values[field]),
    roi?.times ?? null, roi?.currency ?? null, roi?.percentage ?? null,
    record.source,
  ];
}

import type { MarketRecord } from '../coingecko/market-record.js';
import { copyTextEscape } from '../db/copy-text.js';

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

export interface SnapshotContext {
  readonly runId: string;
  readonly batchNo: number;
  readonly vsCurrency: string;
}

const encode = (value: unknown): string =>
  value === null || value === undefined ? '\\N' : typeof value === 'number' ? String(value) : copyTextEscape(String(value));

/**
 * The COPY text line of one validated record, in SNAPSHOT_COLUMNS order: what
 * `copyTextLine(snapshotRow(record, context))` gives, without the intermediate array, and with the
 * record column taken from `recordText` (the record's JSON as CoinGecko sent it) when there is one.
 */
export function snapshotCopyLine(record: MarketRecord, context: SnapshotContext, recordText?: string): string {
  const values = record.values;
  let line = `${copyTextEscape(record.id)}\t${copyTextEscape(context.vsCurrency)}\t${copyTextEscape(record.lastUpdated)}\t${copyTextEscape(context.runId)}\t${context.batchNo}\t${copyTextEscape(record.symbol)}\t${copyTextEscape(record.name)}`;
  for (const field of VERBATIM_FIELDS) line += `\t${encode(values[field])}`;
  const roi = values.roi as { times: number; currency: string; percentage: number } | null;
  line += roi === null ? '\t\\N\t\\N\t\\N' : `\t${encode(roi.times)}\t${encode(roi.currency)}\t${encode(roi.percentage)}`;
  return `${line}\t${copyTextEscape(recordText ?? JSON.stringify(record.source))}\n`;
}

import type { MarketRecord } from '../coingecko/market-record.js';
import { copyTextEscape } from '../db/copy-text.js';
import { COPIED_COLUMNS, VERBATIM_FIELDS, type RawColumnValue } from './raw-columns.js';
import { recordResidual } from './record-residual.js';

export interface SnapshotContext {
  readonly runId: string;
  readonly batchNo: number;
  readonly vsCurrency: string;
}

type Roi = { times: number; currency: string; percentage: number } | null;
type ReadColumn = (record: MarketRecord, context: SnapshotContext) => unknown;

function readerOf(value: RawColumnValue): ReadColumn {
  if ('field' in value) return (record) => record.values[value.field];
  if ('context' in value) return (_record, context) => context[value.context];
  if ('roi' in value) return (record) => (record.values.roi as Roi)?.[value.roi] ?? null;
  if ('residual' in value) return (record) => recordResidual(record.source, record.unknownFields)[value.residual];
  throw new Error('snapshotRow: a column left to its default, or legacy, is not copied');
}

/** How each copied column is read from a record, in COPY order (core/snapshots/raw-columns.ts). */
const READERS = COPIED_COLUMNS.map((column) => readerOf(column.value));

/** The column values of one validated record, in SNAPSHOT_COLUMNS order, read as RAW_SNAPSHOT_COLUMNS declares. */
export function snapshotRow(record: MarketRecord, context: SnapshotContext): unknown[] {
  return READERS.map((read) => read(record, context));
}

const encode = (value: unknown): string =>
  value === null || value === undefined
    ? '\\N'
    : typeof value === 'number'
      ? String(value)
      : copyTextEscape(String(value));

/**
 * The COPY text line of one validated record, in SNAPSHOT_COLUMNS order: what
 * `copyTextLine(snapshotRow(record, context))` gives, without the intermediate array.
 * The load's hot path, so written out by hand rather than derived from RAW_SNAPSHOT_COLUMNS; its
 * test holds it to snapshotRow, which is derived, so a column moved there and not here fails it.
 */
export function snapshotCopyLine(record: MarketRecord, context: SnapshotContext): string {
  const values = record.values;
  let line = `${copyTextEscape(record.id)}\t${copyTextEscape(context.vsCurrency)}\t${copyTextEscape(record.lastUpdated)}\t${copyTextEscape(context.runId)}\t${context.batchNo}\t${copyTextEscape(record.symbol)}\t${copyTextEscape(record.name)}`;
  for (const field of VERBATIM_FIELDS) line += `\t${encode(values[field])}`;
  const roi = values.roi as Roi;
  line +=
    roi === null ? '\t\\N\t\\N\t\\N' : `\t${encode(roi.times)}\t${encode(roi.currency)}\t${encode(roi.percentage)}`;
  const { extra, untyped } = recordResidual(record.source, record.unknownFields);
  return `${line}\t${copyTextEscape(extra)}\t${untyped === null ? '\\N' : untyped}\n`;
}

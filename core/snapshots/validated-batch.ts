import { validateMarketRecord } from '../coingecko/market-record.js';
import { PermanentError } from '../errors.js';
import { snapshotCopyLine, type SnapshotContext } from './snapshot-row.js';

export interface RejectedRecord {
  /** Position in the /coins/markets array. */
  readonly index: number;
  readonly coinId: string | null;
  readonly reason: string;
  /** The record's JSON as CoinGecko sent it. */
  readonly text: string;
}

export type UnknownFields = Readonly<Record<string, { readonly records: number; readonly exampleCoin: string }>>;

/**
 * One /coins/markets response with every record validated: the valid ones as COPY text lines, in
 * response order, the rejected ones kept with their reason. The fetch worker encodes it as the
 * parked batch its load reads (core/handoff/parked-batch.ts).
 */
export interface ValidatedBatch {
  /** Records in the response, valid or not. */
  readonly recordsReceived: number;
  /** Key of each valid row (vs_currency is the context's), in line order. */
  readonly coinIds: readonly string[];
  readonly lastUpdated: readonly string[];
  /** Each valid row's COPY text line (snapshotCopyLine, ending in a newline). */
  readonly lines: readonly string[];
  readonly rejected: readonly RejectedRecord[];
  /** Fields CoinGecko sent that the documented schema lacks (schema drift): how many records, one example coin. */
  readonly unknownFields: UnknownFields;
}

/**
 * Validates a parsed /coins/markets array and encodes its valid records as COPY text lines. `texts`
 * (each item's JSON as sent, from jsonArrayItems, or a function cutting them) are what a rejected
 * record is quarantined with; without them it is serialised again. Valid records need no text: their
 * rows keep only what the typed columns do not (core/snapshots/record-residual.ts), so a function is
 * called only when a record is rejected, sparing every clean batch the cutting.
 */
export function validateSnapshotBatch(
  context: SnapshotContext,
  items: readonly unknown[],
  texts?: readonly string[] | (() => readonly string[]),
): ValidatedBatch {
  let cut: readonly string[] | undefined;
  const textOf = (index: number): string | undefined => {
    if (texts === undefined) return undefined;
    cut ??= typeof texts === 'function' ? texts() : texts;
    if (cut.length !== items.length) {
      // Both come from one body; a mismatch would pair records with the wrong stored text.
      throw new PermanentError(
        `batch ${context.batchNo} of run ${context.runId}: ${items.length} records but ${cut.length} record texts`,
      );
    }
    return cut[index];
  };
  if (Array.isArray(texts)) textOf(0);
  const coinIds: string[] = [];
  const lastUpdated: string[] = [];
  const lines: string[] = [];
  const rejected: RejectedRecord[] = [];
  // No prototype: the keys are field names CoinGecko sent, and "__proto__" would reach Object.prototype.
  const unknownFields: Record<string, { records: number; exampleCoin: string }> = Object.create(null) as Record<
    string,
    { records: number; exampleCoin: string }
  >;
  for (let index = 0; index < items.length; index++) {
    const result = validateMarketRecord(items[index]);
    if (result.ok) {
      const { record } = result;
      coinIds.push(record.id);
      lastUpdated.push(record.lastUpdated);
      lines.push(snapshotCopyLine(record, context));
      for (const field of record.unknownFields) {
        const seen = (unknownFields[field] ??= { records: 0, exampleCoin: record.id });
        seen.records++;
      }
    } else {
      rejected.push({
        index,
        coinId: result.coinId,
        reason: result.reason,
        text: textOf(index) ?? JSON.stringify(result.source ?? null),
      });
    }
  }
  return { recordsReceived: items.length, coinIds, lastUpdated, lines, rejected, unknownFields };
}

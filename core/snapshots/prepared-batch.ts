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
 * One /coins/markets batch made ready for COPY: every record validated, the valid ones encoded as
 * COPY text lines (UTF-8, in response order), the rejected ones kept with their reason. The fetch
 * worker prepares it right after the call (it has the parsed body in hand anyway, and waits on the
 * rate limit most of the time), leaving out the rows already loaded (core/snapshots/loaded-keys.ts);
 * the load worker then only streams `copyText`.
 */
export interface PreparedBatch {
  readonly context: SnapshotContext;
  /** Records in the response, valid or not. */
  readonly recordsReceived: number;
  /** Key of each valid row (vs_currency is the context's), in line order. */
  readonly coinIds: readonly string[];
  readonly lastUpdated: readonly string[];
  /** The valid rows' COPY text lines, concatenated. */
  readonly copyText: Buffer;
  /** Byte offset in copyText where each row's line ends (after its newline). */
  readonly lineEnds: readonly number[];
  readonly rejected: readonly RejectedRecord[];
  /** Fields CoinGecko sent that the documented schema lacks (schema drift): how many records, one example coin. */
  readonly unknownFields: UnknownFields;
  /**
   * Valid rows left out when prepared because their key was already loaded (or came earlier in the
   * batch): the batch's keys were checked, so its load looks none up unless its COPY meets one loaded
   * since. Absent when unchecked (the fetch worker's key check failed, or a fetch worker of a release
   * before the check parked it; a loader of that release ignores the field and only undercounts
   * duplicates): the load looks up keys.
   */
  readonly duplicatesLeftOut?: number;
}

/**
 * A validated batch encoded as the fetch worker parks it: the one encoder (decodePreparedBatch reads
 * it back). `leaveOut`: indices of valid rows (in validateSnapshotBatch's order) already loaded;
 * given, even empty, the batch counts as checked. The COPY text is written once, straight after the
 * header, into the buffer parked. (A 250-coin page's text is ~280 KB; every copy of it is garbage
 * the worker's heap must absorb before the next tick.)
 */
export function encodeValidatedBatch(context: SnapshotContext, validated: ValidatedBatch, leaveOut?: readonly number[]): Buffer {
  const { recordsReceived, coinIds, lastUpdated, lines, rejected, unknownFields, duplicatesLeftOut } = without(validated, leaveOut);
  const lineEnds = lineEndsOf(lines);
  const header = headerLine({ context, recordsReceived, coinIds, lastUpdated, lineEnds, rejected, unknownFields, duplicatesLeftOut });
  const payload = Buffer.allocUnsafe(MAGIC.length + header.length + (lineEnds.at(-1) ?? 0));
  let offset = MAGIC.copy(payload, 0);
  offset += header.copy(payload, offset);
  for (const line of lines) offset += payload.write(line, offset);
  return payload;
}

/** The batch without the valid rows at `leaveOut`, counting them; unchanged and unchecked without it. */
function without(validated: ValidatedBatch, leaveOut: readonly number[] | undefined): ValidatedBatch & { duplicatesLeftOut?: number } {
  if (leaveOut === undefined) return validated;
  if (leaveOut.length === 0) return { ...validated, duplicatesLeftOut: 0 };
  const out = new Set(leaveOut);
  const kept = (_: unknown, i: number) => !out.has(i);
  return {
    ...validated,
    coinIds: validated.coinIds.filter(kept),
    lastUpdated: validated.lastUpdated.filter(kept),
    lines: validated.lines.filter(kept),
    duplicatesLeftOut: out.size,
  };
}

/** A batch's records validated, the valid ones as COPY text lines not yet packed. */
export type ValidatedBatch = Omit<PreparedBatch, 'context' | 'copyText' | 'lineEnds' | 'duplicatesLeftOut'> & { readonly lines: readonly string[] };

export function validateSnapshotBatch(context: SnapshotContext, items: readonly unknown[], texts?: readonly string[]): ValidatedBatch {
  if (texts !== undefined && texts.length !== items.length) {
    // Both come from one body; a mismatch would pair records with the wrong stored text.
    throw new PermanentError(`batch ${context.batchNo} of run ${context.runId}: ${items.length} records but ${texts.length} record texts`);
  }
  const coinIds: string[] = [];
  const lastUpdated: string[] = [];
  const lines: string[] = [];
  const rejected: RejectedRecord[] = [];
  // No prototype: the keys are field names CoinGecko sent, and "__proto__" would reach Object.prototype.
  const unknownFields: Record<string, { records: number; exampleCoin: string }> = Object.create(null) as Record<string, { records: number; exampleCoin: string }>;
  for (let index = 0; index < items.length; index++) {
    const result = validateMarketRecord(items[index]);
    if (result.ok) {
      const { record } = result;
      coinIds.push(record.id);
      lastUpdated.push(record.lastUpdated);
      lines.push(snapshotCopyLine(record, context, texts?.[index]));
      for (const field of record.unknownFields) {
        const seen = (unknownFields[field] ??= { records: 0, exampleCoin: record.id });
        seen.records++;
      }
    } else {
      rejected.push({ index, coinId: result.coinId, reason: result.reason, text: texts?.[index] ?? JSON.stringify(result.source ?? null) });
    }
  }
  return { recordsReceived: items.length, coinIds, lastUpdated, lines, rejected, unknownFields };
}

/** The UTF-8 byte offset where each line ends, counted without encoding it. */
function lineEndsOf(lines: readonly string[]): number[] {
  const lineEnds: number[] = [];
  let bytes = 0;
  for (const line of lines) lineEnds.push((bytes += Buffer.byteLength(line)));
  return lineEnds;
}

/**
 * How a prepared batch is parked in Redis: this first line, one line of JSON (everything but the
 * COPY text), then the COPY text as is, so the loader streams a slice of what Redis returned. The
 * version lets a loader refuse what it does not know instead of copying it.
 */
const MAGIC = Buffer.from('cdp-prepared-batch/1\n');
const NEWLINE = 0x0a;

/** The header: JSON.stringify escapes newlines inside strings, so it is exactly one line. */
function headerLine(header: Omit<PreparedBatch, 'copyText'>): Buffer {
  return Buffer.from(`${JSON.stringify(header)}\n`);
}

/**
 * The batch parked by encodeValidatedBatch, checked for what the COPY depends on: its context must
 * be the load job's own (run_id and batch_no are inside the lines) and its offsets must cut the
 * text into exactly one line per key.
 */
export function decodePreparedBatch(payload: Buffer, expected: SnapshotContext): PreparedBatch {
  const corrupt = (why: string) =>
    new PermanentError(`parked batch ${expected.batchNo} of run ${expected.runId} is corrupt (${why}); the batch must be fetched again`);
  if (!payload.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('unknown format');
  const headerEnd = payload.indexOf(NEWLINE, MAGIC.length);
  if (headerEnd === -1) throw corrupt('no header line');
  let header: Omit<PreparedBatch, 'copyText'>;
  try {
    header = JSON.parse(payload.toString('utf8', MAGIC.length, headerEnd)) as Omit<PreparedBatch, 'copyText'>;
  } catch (error) {
    throw corrupt(`header is not JSON: ${(error as Error).message}`);
  }
  const copyText = payload.subarray(headerEnd + 1);
  const { context, coinIds, lastUpdated, lineEnds } = header;
  if (context?.runId !== expected.runId || context.batchNo !== expected.batchNo || context.vsCurrency !== expected.vsCurrency) {
    throw corrupt(`it was prepared for ${JSON.stringify(context)}`);
  }
  if (!Array.isArray(coinIds) || !Array.isArray(lastUpdated) || !Array.isArray(lineEnds) || !Array.isArray(header.rejected)) throw corrupt('header fields missing');
  if (coinIds.length !== lineEnds.length || lastUpdated.length !== lineEnds.length) throw corrupt('keys and lines differ in number');
  const { duplicatesLeftOut } = header;
  if (duplicatesLeftOut !== undefined && !(Number.isInteger(duplicatesLeftOut) && duplicatesLeftOut >= 0)) throw corrupt('duplicatesLeftOut is not a count');
  let previous = 0;
  for (const end of lineEnds) {
    if (!(end > previous) || copyText[end - 1] !== NEWLINE) throw corrupt('line offsets do not match the text');
    previous = end;
  }
  if (previous !== copyText.length) throw corrupt('text longer than its lines');
  return { ...header, copyText };
}

/** The COPY text without the lines at `skip` (row indices), as slices of the original. */
export function copyTextWithout(batch: PreparedBatch, skip: ReadonlySet<number>): Buffer[] {
  if (skip.size === 0) return [batch.copyText];
  const chunks: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < batch.lineEnds.length; i++) {
    const start = i === 0 ? 0 : batch.lineEnds[i - 1]!;
    if (skip.has(i)) {
      if (start > runStart) chunks.push(batch.copyText.subarray(runStart, start));
      runStart = batch.lineEnds[i]!;
    }
  }
  if (batch.copyText.length > runStart) chunks.push(batch.copyText.subarray(runStart));
  return chunks;
}

import type { Redis } from 'ioredis';
import { PermanentError } from '../errors.js';
import { deletePayload, readPayloadBytes, savePayload } from '../queues/payload-store.js';
import type { SnapshotContext } from '../snapshots/snapshot-row.js';
import type { ValidatedBatch } from '../snapshots/validated-batch.js';

/**
 * The parked batch: one /coins/markets batch as the fetch worker leaves it in Redis for its load job,
 * validated and COPY-encoded right after the call (the fetch worker has the parsed body in hand and
 * waits on the rate limit most of the time), so the load worker, one transaction per batch and the
 * pipeline's narrowest point, only streams its COPY text. This module owns its format (one encoder,
 * one decoder) and its life in Redis (park, read, drop); when each happens, and what a load does when
 * its parked batch is gone, is the recovery protocol (core/handoff/recovery.ts).
 */

/** A parked batch as its load reads it back (decodeParkedBatch): everything the load transaction needs. */
export interface ParkedBatch extends Omit<ValidatedBatch, 'lines'> {
  readonly context: SnapshotContext;
  /** The valid rows' COPY text lines, concatenated (UTF-8): a slice of the bytes Redis returned. */
  readonly copyText: Buffer;
  /** Byte offset in copyText where each row's line ends (after its newline). */
  readonly lineEnds: readonly number[];
  /**
   * Valid rows left out when parked because their key was already loaded (or came earlier in the
   * batch): the batch's keys were checked, so its load looks none up unless its COPY meets one loaded
   * since. Absent when unchecked (the fetch worker's key check failed, or a fetch worker of a release
   * before the check parked it; a loader of that release ignores the field and only undercounts
   * duplicates): the load looks up keys.
   */
  readonly duplicatesLeftOut?: number;
}

/**
 * The format: this version line, one line of JSON (the header: everything but the COPY text), then
 * the COPY text as is, so the loader streams a slice of what Redis returned. The version lets a
 * loader refuse what it does not know instead of copying it. It still says "prepared-batch", the
 * name the format was made under: parked batches outlive a rolling upgrade, and a new loader must
 * read what an old fetch worker parked, so it stays. For the same reason the header's keys, which are
 * ParkedBatch's field names, change only by adding optional ones (the format test pins them).
 */
const VERSION_LINE = Buffer.from('cdp-prepared-batch/1\n');
const NEWLINE = 0x0a;

/**
 * A validated batch encoded as the fetch worker parks it. `leaveOut`: indices of valid rows (in line
 * order) whose key is already loaded; given, even empty, the batch counts as checked. The COPY text
 * is written once, straight after the header, into the buffer parked: a 250-coin page's text is
 * ~280 KB, and every copy of it is garbage the worker's heap must absorb before the next tick.
 */
export function encodeParkedBatch(
  context: SnapshotContext,
  validated: ValidatedBatch,
  leaveOut?: readonly number[],
): Buffer {
  const { recordsReceived, coinIds, lastUpdated, lines, rejected, unknownFields, duplicatesLeftOut } = without(
    validated,
    leaveOut,
  );
  const lineEnds = lineEndsOf(lines);
  const header = headerLine({
    context,
    recordsReceived,
    coinIds,
    lastUpdated,
    lineEnds,
    rejected,
    unknownFields,
    duplicatesLeftOut,
  });
  const parked = Buffer.allocUnsafe(VERSION_LINE.length + header.length + (lineEnds.at(-1) ?? 0));
  let offset = VERSION_LINE.copy(parked, 0);
  offset += header.copy(parked, offset);
  for (const line of lines) offset += parked.write(line, offset);
  return parked;
}

/** The batch without the valid rows at `leaveOut`, counting them; unchanged and unchecked without it. */
function without(
  validated: ValidatedBatch,
  leaveOut: readonly number[] | undefined,
): ValidatedBatch & { duplicatesLeftOut?: number } {
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

/** The UTF-8 byte offset where each line ends, counted without encoding it. */
function lineEndsOf(lines: readonly string[]): number[] {
  const lineEnds: number[] = [];
  let bytes = 0;
  for (const line of lines) lineEnds.push((bytes += Buffer.byteLength(line)));
  return lineEnds;
}

/** The header: JSON.stringify escapes newlines inside strings, so it is exactly one line. */
function headerLine(header: Omit<ParkedBatch, 'copyText'>): Buffer {
  return Buffer.from(`${JSON.stringify(header)}\n`);
}

/**
 * The batch encodeParkedBatch parked, checked for what the COPY depends on: its context must be the
 * load job's own (run_id and batch_no are inside the lines) and its offsets must cut the text into
 * exactly one line per key. Anything else (damaged in Redis, a plain response body parked by a release
 * before this format) is refused with a PermanentError saying why.
 */
export function decodeParkedBatch(parked: Buffer, expected: SnapshotContext): ParkedBatch {
  const corrupt = (why: string) =>
    new PermanentError(
      `parked batch ${expected.batchNo} of run ${expected.runId} is corrupt (${why}); the batch must be fetched again`,
    );
  if (!parked.subarray(0, VERSION_LINE.length).equals(VERSION_LINE)) throw corrupt('unknown format');
  const headerEnd = parked.indexOf(NEWLINE, VERSION_LINE.length);
  if (headerEnd === -1) throw corrupt('no header line');
  let header: Omit<ParkedBatch, 'copyText'>;
  try {
    header = JSON.parse(parked.toString('utf8', VERSION_LINE.length, headerEnd)) as Omit<ParkedBatch, 'copyText'>;
  } catch (error) {
    throw corrupt(`header is not JSON: ${(error as Error).message}`);
  }
  const copyText = parked.subarray(headerEnd + 1);
  const { context, coinIds, lastUpdated, lineEnds } = header;
  if (
    context?.runId !== expected.runId ||
    context.batchNo !== expected.batchNo ||
    context.vsCurrency !== expected.vsCurrency
  ) {
    throw corrupt(`it was parked for ${JSON.stringify(context)}`);
  }
  if (
    !Array.isArray(coinIds) ||
    !Array.isArray(lastUpdated) ||
    !Array.isArray(lineEnds) ||
    !Array.isArray(header.rejected)
  )
    throw corrupt('header fields missing');
  if (coinIds.length !== lineEnds.length || lastUpdated.length !== lineEnds.length)
    throw corrupt('keys and lines differ in number');
  const { duplicatesLeftOut } = header;
  if (duplicatesLeftOut !== undefined && !(Number.isInteger(duplicatesLeftOut) && duplicatesLeftOut >= 0))
    throw corrupt('duplicatesLeftOut is not a count');
  let previous = 0;
  for (const end of lineEnds) {
    if (!(end > previous) || copyText[end - 1] !== NEWLINE) throw corrupt('line offsets do not match the text');
    previous = end;
  }
  if (previous !== copyText.length) throw corrupt('text longer than its lines');
  return { ...header, copyText };
}

/** The COPY text without the lines at `skip` (row indices), as slices of the original. */
export function copyTextWithout(batch: ParkedBatch, skip: ReadonlySet<number>): Buffer[] {
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

/*
 * The store. A batch is parked under its fetch job's result key (payloadKey, core/queues/payload-store.ts:
 * the key that every fetch result is kept under).
 */

/** Parks an encoded batch under `key` until `ttlMs` (PAYLOAD_TTL) passes or its load drops it. */
export async function parkBatch(redis: Redis, key: string, parked: Buffer, ttlMs: number): Promise<void> {
  await savePayload(redis, key, parked, ttlMs);
}

/**
 * The batch parked under `key`, decoded for the load of `expected`; undefined when nothing is parked
 * there (expired, dropped, or lost with Redis). Bytes that do not decode for that batch are as good as
 * gone: ParkedBatchGoneError.
 */
export async function readParkedBatch(
  redis: Redis,
  key: string,
  expected: SnapshotContext,
): Promise<ParkedBatch | undefined> {
  const parked = await readPayloadBytes(redis, key);
  if (parked === undefined) return undefined;
  try {
    return decodeParkedBatch(parked, expected);
  } catch (error) {
    if (error instanceof PermanentError) throw new ParkedBatchGoneError(error.message);
    throw error;
  }
}

/** Drops the batch parked under `key`: its load has committed. */
export async function dropParkedBatch(redis: Redis, key: string): Promise<void> {
  await deletePayload(redis, key);
}

/**
 * The parked batch of a batch not loaded yet is gone: expired after PAYLOAD_TTL, lost with Redis, or
 * unusable as parked (damaged, or in a format this loader does not read), which is as good as gone.
 * The load then fetches the batch again (core/handoff/recovery.ts).
 */
export class ParkedBatchGoneError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'ParkedBatchGoneError';
  }
}

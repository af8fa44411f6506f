import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';

/**
 * CSV downloads, streamed from Postgres: the query runs through a cursor (pg-query-stream, fetching
 * BATCH_ROWS at a time) and each row is written as a CSV line as it arrives, so a 15,000-row table is
 * never held in memory and its first byte leaves with the first batch. The query keeps its bind
 * parameters (COPY would need values spliced into its text), so the API's SQL texts stay the fixed
 * set the fuzz test knows.
 */
const BATCH_ROWS = 1000;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, its quotes doubled; null is empty. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  // An empty string is quoted, so it stays apart from a null.
  return text === '' ? '""' : /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export interface CsvQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  /** The CSV's columns: each row's keys, in order (the header row). */
  readonly columns: readonly string[];
}

/**
 * Streams `query` as a CSV attachment named `filename`. Errors before the first row (a mart not built
 * yet, a statement timeout) are thrown to the caller, which answers them as JSON; after it, the
 * response is cut off, so a failed export is visibly truncated rather than a short success.
 */
export async function sendCsv(pool: pg.Pool, res: Response, query: CsvQuery, filename: string): Promise<void> {
  const client = await pool.connect();
  let failed = false;
  try {
    const rows = client.query(new QueryStream(query.text, [...query.values], { batchSize: BATCH_ROWS }));
    // The first row (or the end, or the query's error) before committing to a 200.
    const first = await new Promise<Record<string, unknown> | null>((resolve, reject) => {
      const onReadable = () => {
        cleanup();
        resolve(rows.read() as Record<string, unknown> | null);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        rows.off('readable', onReadable).off('end', onEnd).off('error', onError);
      };
      rows.on('readable', onReadable).on('end', onEnd).on('error', onError);
    });
    res.status(200).type('text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${filename}"`);
    res.write(csvLine(query.columns) + (first === null ? '' : csvLine(query.columns.map((c) => first[c]))));
    if (first === null) {
      res.end();
      return;
    }
    const toLines = new Transform({
      writableObjectMode: true,
      transform(row: Record<string, unknown>, _encoding, done) {
        done(null, csvLine(query.columns.map((c) => row[c])));
      },
    });
    // A client that hangs up ends the pipeline with an error, which closes the cursor's stream.
    await pipeline(rows, toLines, res);
  } catch (error) {
    failed = true;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    throw error;
  } finally {
    // A cursor cut off mid-stream leaves the connection in an unknown state: it is not reused.
    client.release(failed);
  }
}

/** A file name from fixed parts only (letters, digits, '-', '_', '.'), never raw input. */
export function csvFilename(...parts: readonly string[]): string {
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, '-')).join('-')}.csv`;
}

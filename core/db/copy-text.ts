import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escapes text for COPY text format (backslash, tab, CR, LF); most text has none and is returned as is. */
export function copyTextEscape(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : text;
}

/** Encodes one value in PostgreSQL's COPY text format (NULL is \N; backslash, tab, CR, LF escaped). */
export function copyTextValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  // A number's text never needs escaping.
  if (typeof value === 'number') return String(value);
  return copyTextEscape(
    typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value),
  );
}

export function copyTextLine(values: readonly unknown[]): string {
  return `${values.map(copyTextValue).join('\t')}\n`;
}

/**
 * Sends COPY text already encoded as UTF-8 (whole lines, in `chunks`) into `table (columns)`;
 * returns rows copied. No string is converted on this path.
 */
export async function copyBuffers(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  chunks: readonly Buffer[],
): Promise<number> {
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin`));
  try {
    // One write: a batch is a few MB at most, and slices around skipped rows would each cost a send.
    stream.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    await finished(stream);
  } catch (error) {
    stream.destroy(error as Error);
    throw error;
  }
  return stream.rowCount ?? 0;
}

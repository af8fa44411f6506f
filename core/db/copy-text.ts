import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  return copyTextEscape(typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value));
}

export function copyTextLine(values: readonly unknown[]): string {
  return `${values.map(copyTextValue).join('\t')}\n`;
}

/** Streams pre-encoded lines into `table (columns)` with COPY FROM STDIN; returns rows copied. */
export async function copyLines(client: pg.PoolClient, table: string, columns: readonly string[], lines: Iterable<string>): Promise<number> {
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin`));
  // One chunk per ~256 KB keeps syscalls few without holding a second copy of a large batch.
  async function* chunks() {
    let buffer = '';
    for (const line of lines) {
      buffer += line;
      if (buffer.length >= 262_144) {
        yield buffer;
        buffer = '';
      }
    }
    if (buffer) yield buffer;
  }
  await pipeline(Readable.from(chunks()), stream);
  return stream.rowCount ?? 0;
}

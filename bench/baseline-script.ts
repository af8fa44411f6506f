/**
 * The kind of script the pipeline replaces, as the tick-latency baseline: one process fetches every
 * batch of ids with got (two calls in flight), then writes everything with multi-row INSERTs into a
 * plain table. No queue, no validation, no ledger, no retries. Prints one JSON line of timings.
 *
 *   BASELINE_API_URL=http://127.0.0.1:8484/api/v3 BASELINE_DATABASE_URL=postgres://... \
 *   BASELINE_IDS_FILE=ids.txt node dist/bench/baseline-script.js
 */
import { readFileSync } from 'node:fs';
import got from 'got';
import pg from 'pg';
import { RAW_SNAPSHOT_COLUMNS, VERBATIM_FIELDS } from '../core/snapshots/raw-columns.js';

// The raw table's columns without the pipeline's own (run, batch, ROI split, load time).
const COLUMNS = ['coin_id', 'vs_currency', 'last_updated', 'symbol', 'name', ...VERBATIM_FIELDS, 'record'];
const BATCH = 250;
const IN_FLIGHT = 2;

const typeOf = new Map(RAW_SNAPSHOT_COLUMNS.map((c) => [c.name, c.type]));
const BASELINE_TABLE_DDL = `create table if not exists baseline_snapshots (${COLUMNS.map((c) => `${c} ${typeOf.get(c)}`).join(', ')})`;

type Item = Record<string, unknown>;

async function fetchAll(apiUrl: string, ids: readonly string[]): Promise<Item[]> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  const results: Item[][] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const n = next++;
        results[n] = await got(`${apiUrl}/coins/markets`, {
          searchParams: {
            vs_currency: 'usd',
            ids: batches[n]!.join(','),
            per_page: BATCH,
            page: 1,
            price_change_percentage: '1h,24h,7d',
          },
        }).json<Item[]>();
      }
    }),
  );
  return results.flat();
}

async function insertAll(pool: pg.Pool, items: readonly Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    const params: unknown[] = [];
    const tuples = items.slice(i, i + BATCH).map((item) => {
      const values = COLUMNS.map((c) =>
        c === 'coin_id'
          ? item.id
          : c === 'vs_currency'
            ? 'usd'
            : c === 'record'
              ? JSON.stringify(item)
              : (item[c] ?? null),
      );
      const base = params.length;
      params.push(...values);
      return `(${values.map((_, k) => `$${base + k + 1}`).join(',')})`;
    });
    await pool.query(`insert into baseline_snapshots (${COLUMNS.join(',')}) values ${tuples.join(',')}`, params);
  }
}

async function main(): Promise<void> {
  const apiUrl = process.env.BASELINE_API_URL!;
  const ids = readFileSync(process.env.BASELINE_IDS_FILE!, 'utf8').split('\n').filter(Boolean);
  const pool = new pg.Pool({ connectionString: process.env.BASELINE_DATABASE_URL!, max: 1 });
  await pool.query(BASELINE_TABLE_DDL);
  const started = performance.now();
  const items = await fetchAll(apiUrl, ids);
  const fetched = performance.now();
  await insertAll(pool, items);
  const done = performance.now();
  await pool.end();
  process.stdout.write(
    `${JSON.stringify({ rows: items.length, fetchMs: fetched - started, insertMs: done - fetched, totalMs: done - started })}\n`,
  );
}

await main();

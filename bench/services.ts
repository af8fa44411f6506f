import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrations } from '../core/db/data-source.js';
import { ensureDatabase } from '../core/db/ensure-database.js';
import { deleteKeysUnder } from '../scripts/lib/redis-prefix.js';
import type { BenchDatabase } from './benchmark.js';

/** Where the local services are (the same defaults as the tests). */
export const BENCH_PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const token = () => randomBytes(4).toString('hex');
const safeName = (name: string) => name.replace(/[^a-z0-9]/gi, '_').toLowerCase();

export function databaseUrl(name: string): string {
  const url = new URL(BENCH_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh name `cdp_bench_<benchmark>_<random>`. */
export function benchDatabaseName(benchmark: string): string {
  return `cdp_bench_${safeName(benchmark)}_${token()}`;
}

/** Creates the database from scratch and migrates it the way deployments do. */
export async function createBenchDatabase(name: string): Promise<BenchDatabase> {
  const url = databaseUrl(name);
  await ensureDatabase(url);
  await runMigrations(url);
  return { name, url };
}

export async function dropBenchDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

export function benchPrefix(benchmark: string): string {
  return `cdp-bench-${safeName(benchmark)}-${token()}`;
}

/** Deletes every key under `prefix` (never FLUSHALL: the Redis is shared). */
export function deletePrefix(prefix: string): Promise<void> {
  return deleteKeysUnder(BENCH_REDIS_URL, prefix);
}

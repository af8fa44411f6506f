import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../core/db/data-source.js';
import { DATABASE_GRANTS } from '../../core/db/migrations/1764489600000-least-privilege-roles.js';
import { databaseUrl, TEMPLATE_DB, TEST_PG_ADMIN_URL } from './env.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A small pool for assertions. */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The same database URL, its sessions running as `role`: the test logs in as the superuser and
 * switches role at connect (the roles are NOLOGIN until deploy gives them passwords), so privilege
 * checks are the role's.
 */
export function urlAsRole(url: string, role: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c role=${role}`);
  return u.toString();
}

/** A fresh, migrated database of this test file's own, cloned from the template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cdp_t_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database ${name} template ${TEMPLATE_DB}`));
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => undefined);
  // Database-level grants are not part of the template's contents (see DATABASE_GRANTS).
  await pool.query(DATABASE_GRANTS);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** How many sessions of this test database are waiting for a lock right now. */
export async function sessionsWaitingOnLocks(db: TestDatabase): Promise<number> {
  const result = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
  );
  return result.rows[0]!.n;
}

/**
 * For a whole test file: a database cloned from the migrated template with a TypeORM DataSource
 * (the app's entities) initialised on it, both closed after the file. Read the fields inside tests.
 */
export function useEntityDataSource(): { db: TestDatabase; dataSource: DataSource } {
  const held = {} as { db: TestDatabase; dataSource: DataSource };
  beforeAll(async () => {
    held.db = await createTestDatabase();
    held.dataSource = createDataSource(held.db.url, { poolMax: 1 });
    await held.dataSource.initialize();
  });
  afterAll(async () => {
    await held.dataSource?.destroy();
    await held.db?.drop();
  });
  return held;
}

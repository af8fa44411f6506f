import pg from 'pg';
import { insertSyntheticSnapshots, runBundledTransform } from '../../bench/synthetic-history.js';
import type { AppConfig } from '../../core/config/index.js';
import { testConfig } from '../helpers/config.js';
import { createTestDatabase, urlAsRole, type TestDatabase } from '../helpers/database.js';
import { deletePrefix, testPrefix } from '../helpers/redis.js';

const MINUTE = 60_000;

/**
 * Marts built by real runs of the bundled dbt project over synthetic history (bench/synthetic-history:
 * one snapshot per coin per minute, 'bitcoin', 'ethereum', then 'coin-<n>'), without the simulator
 * and queues: for tests about how the dashboard serves the marts rather than how they are made.
 */
export interface SyntheticMarts {
  readonly db: TestDatabase;
  readonly prefix: string;
  /** Connected as the database owner (postgres); DATABASE_URL is db.url. */
  config(env?: Record<string, string>): AppConfig;
  /**
   * `minutes` more of history after the newest minute so far, then one transform run, recorded as the
   * transform worker records it. Resolves with the run's transform_run_id.
   */
  advance(minutes: number): Promise<number>;
  close(): Promise<void>;
}

export async function startSyntheticMarts(options: {
  coins: number;
  minutes: number;
  transformRole?: string;
}): Promise<SyntheticMarts> {
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const config = (env: Record<string, string> = {}) =>
    testConfig({
      databaseUrl: db.url,
      prefix,
      coingeckoUrl: 'http://127.0.0.1:9/api/v3',
      env: { TRANSFORM_RUNNER: 'bundled', ...env },
    });
  // The transform as deployed, when asked: as cdp_transformer, so the marts are the transformer's and
  // the reader sees them through default privileges, not because the superuser owns everything.
  const transformUrl = options.transformRole ? urlAsRole(db.url, options.transformRole) : db.url;
  const transformConfig = config({ DATABASE_URL: transformUrl });
  const transformPool = new pg.Pool({ connectionString: transformUrl, max: 2 });
  transformPool.on('error', () => undefined);
  // History ends a few minutes before now, so advance() can add minutes that are still in the past.
  let last = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;
  let runs = 0;
  // Later minutes are loaded now, as a tick's rows would be, so the incremental models pick them up.
  const insert = async (from: number, to: number, loadedNow: boolean) => {
    await insertSyntheticSnapshots(db.pool, {
      coins: options.coins,
      from: new Date(from),
      to: new Date(to),
      loadedNow,
    });
  };
  await insert(last - (options.minutes - 1) * MINUTE, last, false);
  const advance = async (minutes: number) => {
    if (minutes > 0) {
      await insert(last + MINUTE, last + minutes * MINUTE, true);
      last += minutes * MINUTE;
    }
    const { transformRunId } = await runBundledTransform(transformPool, transformConfig, `synthetic-${++runs}`);
    return transformRunId;
  };
  await advance(0);
  return {
    db,
    prefix,
    config,
    advance,
    async close() {
      await transformPool.end();
      await deletePrefix(prefix);
      await db.drop();
    },
  };
}

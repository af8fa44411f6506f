import { createPool } from '../../../core/db/pool.js';
import { testConfig } from '../../helpers/config.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

/**
 * The pipeline's pg pool (core/db/pool.ts): its connections never JIT-compile. A short statement
 * whose estimate crossed jit_above_cost spent 140 ms compiling for 1 ms of work (the freshness
 * query behind /metrics at 15,000 coins, docs/benchmarks.md).
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

describe(createPool.name, () => {
  it('opens connections with JIT off, so no statement pays for compilation', async () => {
    const config = testConfig({ databaseUrl: db.url, prefix: 'pool-test', coingeckoUrl: 'http://127.0.0.1:9/api/v3' });
    const pool = createPool(config, 'pool-test');
    try {
      const { rows } = await pool.query<{ jit: string }>('show jit');
      expect(rows[0]!.jit).toBe('off');
      // A statement costed far above jit_above_cost: planned without JIT.
      const plan = await pool.query<{ 'QUERY PLAN': unknown }>(
        `explain (analyze, format json) select count(*) from generate_series(1, 10) a, generate_series(1, 10) b, generate_series(1, 10) c, generate_series(1, 10) d, generate_series(1, 100) e`,
      );
      expect(JSON.stringify(plan.rows[0]!['QUERY PLAN'])).not.toContain('"JIT"');
    } finally {
      await pool.end();
    }
  });
});

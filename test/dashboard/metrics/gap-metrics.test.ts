import client from 'prom-client';
import { registerGapMetrics } from '../../../dashboard/metrics/gap-metrics.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

describe('coverage gap gauges', () => {
  let db: TestDatabase;
  const registry = new client.Registry();
  const value = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;

  beforeAll(async () => {
    db = await createTestDatabase();
    registerGapMetrics(registry, db.pool, { timeoutMs: 2000 });
  });
  afterAll(() => db.drop());

  it('read 0 open gaps, 0 seconds old, when there is none', async () => {
    expect(await value('cdp_coverage_gaps_open')).toBe(0);
    expect(await value('cdp_coverage_gap_oldest_open_seconds')).toBe(0);
  });

  it('count open and repairing gaps and age the oldest by its detection, leaving repaired ones out', async () => {
    await db.pool.query(
      `insert into pipeline.coverage_gaps (gap_from, gap_to, coins, coins_tracked, status, detected_at) values
         (now() - interval '5 hours', now() - interval '4 hours', 1, 1, 'repaired', now() - interval '4 hours'),
         (now() - interval '3 hours', now() - interval '2 hours', 1, 1, 'open', now() - interval '2 hours'),
         (now() - interval '90 minutes', now() - interval '1 hour', 1, 1, 'repairing', now() - interval '1 hour')`,
    );
    expect(await value('cdp_coverage_gaps_open')).toBe(2);
    const oldest = (await value('cdp_coverage_gap_oldest_open_seconds'))!;
    expect(oldest).toBeGreaterThanOrEqual(7200);
    expect(oldest).toBeLessThan(4 * 3600);
  });
});

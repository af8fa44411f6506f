import { startTransformRun } from '../../../../workers/transform/engine/record-results.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';

describe(startTransformRun.name, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('closes a run left running by a worker that died, and opens the new one', async () => {
    const orphan = await startTransformRun(db.pool, {
      runId: 'mdead',
      jobId: 'transform-mdead',
      runner: 'bundled',
      covers: [],
    });
    const next = await startTransformRun(db.pool, {
      runId: 'mnext',
      jobId: 'transform-mnext',
      runner: 'bundled',
      covers: ['mdead'],
    });
    const rows = (
      await db.pool.query(
        'select transform_run_id::int as id, status, finished_at is not null as finished, error, covers_run_ids from pipeline.transform_runs order by 1',
      )
    ).rows;
    expect(rows).toEqual([
      {
        id: orphan,
        status: 'error',
        finished: true,
        error: expect.stringMatching(/^aborted: its transform worker stopped/),
        covers_run_ids: ['mdead'],
      },
      { id: next, status: 'running', finished: false, error: null, covers_run_ids: ['mnext', 'mdead'] },
    ]);
  });
});

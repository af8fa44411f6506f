import { inTransaction } from '../../../core/db/pool.js';
import {
  markBatchFailed,
  markBatchFetched,
  markBatchLoaded,
  markBatchSuperseded,
  recordPlannedRun,
  type BatchLoadCounts,
} from '../../../core/pipeline/run-ledger.js';
import { createTestDatabase, sessionsWaitingOnLocks, type TestDatabase } from '../../helpers/database.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('the run ledger', () => {
  let db: TestDatabase;
  let runs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** A planned run of `batches` batches of two coins each. */
  async function plannedRun(batches: number): Promise<string> {
    const runId = `ledger${runs++}`;
    const plan = Array.from({ length: batches }, (_, i) => [`coin-${i}-a`, `coin-${i}-b`]);
    await recordPlannedRun(db.pool, { runId, trigger: 'manual', scheduledAt: null, batches: plan });
    return runId;
  }
  const counts = (rowsLoaded: number, rowsDuplicate = 0, recordsRejected = 0): BatchLoadCounts => ({
    recordsReceived: rowsLoaded + rowsDuplicate + recordsRejected,
    rowsLoaded,
    rowsDuplicate,
    rowsStale: 0,
    recordsRejected,
  });
  const loaded = (runId: string, batchNo: number, c = counts(2)) =>
    inTransaction(db.pool, (client) => markBatchLoaded(client, runId, batchNo, c));
  async function run(runId: string) {
    const result = await db.pool.query(
      `select status, finished_at is not null as finished, batches_fetched, batches_loaded, batches_failed, batches_superseded,
              rows_loaded, rows_duplicate, records_rejected
         from pipeline.pipeline_runs where run_id = $1`,
      [runId],
    );
    return result.rows[0] as Record<string, unknown>;
  }

  describe(markBatchLoaded.name, () => {
    it('counts each batch and finishes the run as loaded with its last one', async () => {
      const runId = await plannedRun(2);
      await markBatchFetched(db.pool, runId, 0, 2);
      await loaded(runId, 0, counts(1, 1));
      expect(await run(runId)).toEqual({
        status: 'running',
        finished: false,
        batches_fetched: 1,
        batches_loaded: 1,
        batches_failed: 0,
        batches_superseded: 0,
        rows_loaded: 1,
        rows_duplicate: 1,
        records_rejected: 0,
      });
      await loaded(runId, 1, counts(1, 0, 1));
      expect(await run(runId)).toEqual({
        // Batch 1 loaded without a fetch on record (its fetch's ledger update lost): it counts as fetched.
        status: 'loaded',
        finished: true,
        batches_fetched: 2,
        batches_loaded: 2,
        batches_failed: 0,
        batches_superseded: 0,
        rows_loaded: 2,
        rows_duplicate: 1,
        records_rejected: 1,
      });
      const batch = (
        await db.pool.query(
          'select status, rows_loaded, records_rejected, loaded_at is not null as stamped from pipeline.pipeline_batches where run_id = $1 and batch_no = 1',
          [runId],
        )
      ).rows[0];
      expect(batch).toEqual({ status: 'loaded', rows_loaded: 1, records_rejected: 1, stamped: true });
    });

    it('counts a batch marked loaded twice once', async () => {
      const runId = await plannedRun(2);
      await loaded(runId, 0);
      await loaded(runId, 0);
      expect(await run(runId)).toMatchObject({ status: 'running', finished: false, batches_loaded: 1, rows_loaded: 2 });
    });

    it('finishes a run partial when one batch failed, and loaded once that batch is retried and loads', async () => {
      const runId = await plannedRun(2);
      await loaded(runId, 0);
      await markBatchFailed(db.pool, runId, 1, 'fetch: 500 from CoinGecko');
      expect(await run(runId)).toMatchObject({
        status: 'partial',
        finished: true,
        batches_loaded: 1,
        batches_failed: 1,
      });
      await loaded(runId, 1);
      expect(await run(runId)).toMatchObject({
        status: 'loaded',
        finished: true,
        batches_loaded: 2,
        batches_failed: 0,
        rows_loaded: 4,
      });
      const batch = (
        await db.pool.query('select status, error from pipeline.pipeline_batches where run_id = $1 and batch_no = 1', [
          runId,
        ])
      ).rows[0];
      expect(batch).toEqual({ status: 'loaded', error: null });
    });

    it('turns a failed run partial when one of its failed batches loads', async () => {
      const runId = await plannedRun(2);
      await markBatchFailed(db.pool, runId, 0, 'permanent');
      await markBatchFailed(db.pool, runId, 1, 'permanent');
      expect(await run(runId)).toMatchObject({ status: 'failed', finished: true, batches_failed: 2 });
      await loaded(runId, 0);
      expect(await run(runId)).toMatchObject({
        status: 'partial',
        finished: true,
        batches_loaded: 1,
        batches_failed: 1,
      });
    });

    it('leaves a lost run lost', async () => {
      const runId = await plannedRun(1);
      await db.pool.query("update pipeline.pipeline_runs set status = 'lost', finished_at = now() where run_id = $1", [
        runId,
      ]);
      await loaded(runId, 0);
      expect(await run(runId)).toMatchObject({ status: 'lost', finished: true, batches_loaded: 1 });
    });

    it('finishes the run once when its last two batches load at the same moment', async () => {
      const runId = await plannedRun(2);
      const first = await db.pool.connect();
      try {
        await first.query('begin');
        await markBatchLoaded(first, runId, 0, counts(2));
        // The second waits for the first's run row, then counts on from the newest version of it.
        const second = loaded(runId, 1);
        await waitFor('the second load waiting on the run row', async () => (await sessionsWaitingOnLocks(db)) === 1);
        await first.query('commit');
        await second;
      } finally {
        await first.query('rollback').catch(() => undefined);
        first.release();
      }
      expect(await run(runId)).toMatchObject({ status: 'loaded', finished: true, batches_loaded: 2, rows_loaded: 4 });
    });
  });

  describe(markBatchSuperseded.name, () => {
    const superseded = (runId: string, batchNo: number, byRunId = 'tnewer') =>
      inTransaction(db.pool, (client) => markBatchSuperseded(client, runId, batchNo, byRunId));
    async function batch(runId: string, batchNo: number) {
      const result = await db.pool.query(
        `select status, superseded_by, superseded_at is not null as superseded, error
           from pipeline.pipeline_batches where run_id = $1 and batch_no = $2`,
        [runId, batchNo],
      );
      return result.rows[0] as Record<string, unknown>;
    }

    it('records the newer tick and the reason on the batch, and finishes the run superseded with its last batch', async () => {
      const runId = await plannedRun(2);
      await loaded(runId, 0);
      expect(await superseded(runId, 1, 'tnewer')).toBe(true);
      expect(await batch(runId, 1)).toEqual({
        status: 'superseded',
        superseded_by: 'tnewer',
        superseded: true,
        error: 'superseded by tnewer: not fetched before that newer tick was planned',
      });
      expect(await run(runId)).toMatchObject({
        status: 'superseded',
        finished: true,
        batches_loaded: 1,
        batches_superseded: 1,
        batches_failed: 0,
      });
    });

    it('finishes a run whose every batch was superseded as superseded', async () => {
      const runId = await plannedRun(2);
      await superseded(runId, 0);
      expect(await run(runId)).toMatchObject({ status: 'running', finished: false, batches_superseded: 1 });
      await superseded(runId, 1);
      expect(await run(runId)).toMatchObject({ status: 'superseded', finished: true, batches_superseded: 2 });
    });

    it('lets a failure outrank supersession: partial when some loaded, failed when none did', async () => {
      const some = await plannedRun(3);
      await loaded(some, 0);
      await markBatchFailed(db.pool, some, 1, 'HTTP 404');
      await superseded(some, 2);
      expect(await run(some)).toMatchObject({ status: 'partial', finished: true });
      const none = await plannedRun(2);
      await markBatchFailed(db.pool, none, 0, 'HTTP 404');
      await superseded(none, 1);
      expect(await run(none)).toMatchObject({ status: 'failed', finished: true });
    });

    it('supersedes only a planned batch, and counts it once', async () => {
      const runId = await plannedRun(3);
      await markBatchFetched(db.pool, runId, 0, 2);
      expect(await superseded(runId, 0)).toBe(false);
      expect(await superseded(runId, 1)).toBe(true);
      expect(await superseded(runId, 1)).toBe(false);
      // A fetch that completes after all finds its batch superseded and leaves it so.
      await markBatchFetched(db.pool, runId, 1, 2);
      expect(await batch(runId, 0)).toMatchObject({ status: 'fetched' });
      expect(await batch(runId, 1)).toMatchObject({ status: 'superseded' });
      expect(await run(runId)).toMatchObject({ status: 'running', batches_fetched: 1, batches_superseded: 1 });
    });

    it('turns a failed run superseded when its failed batch is retried and loads', async () => {
      const runId = await plannedRun(2);
      await markBatchFailed(db.pool, runId, 0, 'HTTP 500');
      await superseded(runId, 1);
      expect(await run(runId)).toMatchObject({ status: 'failed', finished: true });
      await loaded(runId, 0);
      expect(await run(runId)).toMatchObject({ status: 'superseded', batches_loaded: 1, batches_failed: 0 });
    });
  });

  describe(recordPlannedRun.name, () => {
    it("records the tick's call budget", async () => {
      await recordPlannedRun(db.pool, {
        runId: 'budgeted',
        trigger: 'schedule',
        scheduledAt: null,
        batches: [['bitcoin']],
        budget: { callsNeeded: 10.03, callsAllowed: 5 },
      });
      const { rows } = await db.pool.query(
        "select calls_needed, calls_allowed from pipeline.pipeline_runs where run_id = 'budgeted'",
      );
      expect(rows[0]).toEqual({ calls_needed: 10.03, calls_allowed: 5 });
    });
  });
});

import pg from 'pg';
import { markHistoryItemDone, recordHistoryRun } from '../../../core/history/history-ledger.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const outcome = { httpStatus: 200, pointsReceived: 10, rowsInserted: 10, pointsRejected: 0 };

describe('history ledger', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const runStatus = async (historyRunId: string) =>
    (await db.pool.query('select status from pipeline.history_runs where history_run_id = $1', [historyRunId])).rows[0]
      ?.status;

  describe(markHistoryItemDone.name, () => {
    it('finishes the run when the last two items are marked done by concurrent transactions', async () => {
      await recordHistoryRun(db.pool, {
        historyRunId: 'b-race',
        kind: 'backfill',
        vsCurrency: 'usd',
        fromMs: 0,
        toMs: 3_600_000,
        coins: 2,
        requested: {},
        items: [
          { coinId: 'bitcoin', fromMs: 0, toMs: 3_600_000 },
          { coinId: 'ethereum', fromMs: 0, toMs: 3_600_000 },
        ],
      });
      const [a, b] = [new pg.Client(db.url), new pg.Client(db.url)];
      await Promise.all([a.connect(), b.connect()]);
      try {
        await a.query('begin');
        await b.query('begin');
        await markHistoryItemDone(a, 'b-race', 0, outcome);
        // B marks the other item while A has not committed: it must wait for A, then see A's item done.
        const second = markHistoryItemDone(b, 'b-race', 1, outcome).then(() => b.query('commit'));
        await a.query('commit');
        await second;
      } finally {
        await Promise.all([a.end(), b.end()]);
      }
      expect(await runStatus('b-race')).toBe('done');
    });
  });
});

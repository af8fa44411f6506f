import pg from 'pg';
import {
  historyProgress,
  markHistoryItemDone,
  markHistoryItemFailed,
  recordHistoryRun,
} from '../../../core/history/history-ledger.js';
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

  describe(historyProgress.name, () => {
    it('counts a coin done once none of its calls is pending, and adds up calls, rows and failures', async () => {
      const day = 86_400_000;
      await recordHistoryRun(db.pool, {
        historyRunId: 'b-progress',
        kind: 'backfill',
        vsCurrency: 'usd',
        fromMs: 0,
        toMs: 3 * day,
        coins: 3,
        requested: {},
        items: [
          { coinId: 'bitcoin', fromMs: day, toMs: 2 * day },
          { coinId: 'bitcoin', fromMs: 0, toMs: day },
          { coinId: 'ethereum', fromMs: 0, toMs: day },
          { coinId: 'solana', fromMs: 0, toMs: day },
        ],
      });
      await markHistoryItemDone(db.pool, 'b-progress', 0, outcome);
      await markHistoryItemDone(db.pool, 'b-progress', 2, outcome);
      await markHistoryItemFailed(
        db.pool,
        'b-progress',
        3,
        'GET /coins/solana/market_chart/range: HTTP 404: coin not found',
      );
      expect(await historyProgress(db.pool, ['b-progress'])).toEqual({
        items: 4,
        done: 2,
        failed: 1,
        pending: 1,
        calls: 0,
        rowsInserted: 20,
        pointsRejected: 0,
        // bitcoin has a call pending still; ethereum is done, solana failed: both finished.
        coinsDone: 2,
        coins: 3,
      });
    });
  });
});

import pg from 'pg';
import { classifyPostgresError, PermanentError, RetryableError } from '../../core/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait-for.js';

/** An error shaped exactly as the pg driver raises it for an ErrorResponse with this SQLSTATE. */
function serverError(code: string, message = `server said ${code}`): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = 'ERROR';
  return error;
}

const classOf = (error: unknown) => {
  const classified = classifyPostgresError(error, 'doing it');
  return classified instanceof RetryableError
    ? 'retryable'
    : classified instanceof PermanentError
      ? 'permanent'
      : 'other';
};

describe(classifyPostgresError.name, () => {
  it.each([
    ['08000', 'connection exception'],
    ['08001', 'could not establish a connection'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation mid-restart'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['40003', 'statement completion unknown'],
    ['53000', 'insufficient resources'],
    ['53100', 'disk full: clears once space is freed'],
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['55P03', 'lock not available'],
    ['57014', 'statement timeout'],
    ['57P01', 'admin shutdown (pg_ctl restart -m fast, pg_terminate_backend)'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now (starting up, recovering)'],
    ['57P05', 'idle session timeout'],
    ['25P03', 'idle-in-transaction timeout'],
    ['58030', 'I/O error'],
  ])('%s (%s) is retryable', (code) => {
    expect(classOf(serverError(code))).toBe('retryable');
  });

  it.each([
    ['42501', 'permission denied'],
    ['42P01', 'undefined table'],
    ['42703', 'undefined column'],
    ['42883', 'undefined function'],
    ['23505', 'unique violation'],
    ['23514', 'check violation'],
    ['22P02', 'invalid text representation'],
    ['40002', 'deferred constraint violation at commit: the same data fails again'],
    ['57P04', 'database dropped'],
    ['XX001', 'data corrupted'],
    ['28P01', 'password authentication failed'],
    ['3D000', 'database does not exist'],
  ])('%s (%s) is permanent', (code) => {
    expect(classOf(serverError(code))).toBe('permanent');
  });

  it('treats socket errors and driver errors without a SQLSTATE as retryable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(classOf(refused)).toBe('retryable');
    expect(classOf(new Error('Connection terminated unexpectedly'))).toBe('retryable');
  });

  it('keeps the server message and the SQLSTATE in the reason', () => {
    const error = serverError('53100', 'could not extend file "base/16384/16390": No space left on device');
    const classified = classifyPostgresError(error, 'loading batch 3 of run r1');
    expect(classified.message).toBe(
      'loading batch 3 of run r1: could not extend file "base/16384/16390": No space left on device (53100)',
    );
    expect(classified.cause).toBe(error);
  });

  describe('errors raised by a real server', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(() => db.drop());

    const failure = async (work: (client: pg.Client) => Promise<unknown>, options: Partial<pg.ClientConfig> = {}) => {
      const client = new pg.Client({ connectionString: db.url, ...options });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await work(client);
      } catch (error) {
        return error;
      } finally {
        await client.end().catch(() => undefined);
      }
      throw new Error('expected the statement to fail');
    };

    it('permission denied (a role without the grant) is permanent, with the object named', async () => {
      const error = await failure((c) => c.query('select * from raw.coin_market_snapshots'), {
        options: '-c role=cdp_reader',
      });
      const classified = classifyPostgresError(error, 'reading');
      expect(classified).toBeInstanceOf(PermanentError);
      expect(classified.message).toMatch(/^reading: permission denied for schema raw \(42501\)$/);
    });

    it('an undefined table is permanent', async () => {
      expect(classOf(await failure((c) => c.query('select * from raw.no_such_table')))).toBe('permanent');
    });

    it('a statement timeout is retryable', async () => {
      expect(classOf(await failure((c) => c.query('select pg_sleep(5)'), { statement_timeout: 100 }))).toBe(
        'retryable',
      );
    });

    it('a backend terminated by an administrator is retryable', async () => {
      const error = await failure(async (c) => {
        const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        // Settle the query into a value now: its rejection can arrive before pg_terminate_backend
        // returns, and a rejection with no handler yet fails the test on its own.
        const sleeping = c.query('select pg_sleep(10)').then(
          () => undefined,
          (error: unknown) => error,
        );
        // Terminated while the statement runs: the server says so, not a timer that usually outlasts the start.
        await waitFor(
          'the statement to be running',
          async () =>
            (
              await db.pool.query(
                "select 1 from pg_stat_activity where pid = $1 and state = 'active' and wait_event = 'PgSleep'",
                [pid],
              )
            ).rowCount === 1,
          10_000,
          10,
        );
        await db.pool.query('select pg_terminate_backend($1)', [pid]);
        const terminated = await sleeping;
        if (terminated !== undefined) throw terminated;
      });
      expect((error as { code?: string }).code).toBe('57P01');
      expect(classOf(error)).toBe('retryable');
    });

    it('a deadlock is retryable', async () => {
      await db.pool.query(
        'create table deadlock_probe (id int primary key); insert into deadlock_probe values (1), (2)',
      );
      const [a, b] = [new pg.Client({ connectionString: db.url }), new pg.Client({ connectionString: db.url })];
      await Promise.all([a.connect(), b.connect()]);
      try {
        await a.query('begin; update deadlock_probe set id = id where id = 1');
        await b.query('begin; update deadlock_probe set id = id where id = 2');
        // Each now waits for the other's row; Postgres picks one victim after deadlock_timeout (1 s).
        const outcomes = await Promise.allSettled([
          a.query('update deadlock_probe set id = id where id = 2'),
          b.query('update deadlock_probe set id = id where id = 1'),
        ]);
        const victim = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect((victim.reason as { code?: string }).code).toBe('40P01');
        expect(classOf(victim.reason)).toBe('retryable');
      } finally {
        await Promise.all([a.end(), b.end()]);
      }
    });
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { testEnv } from '../helpers/config.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, type Scenario } from '../helpers/scenario.js';
import { waitFor } from '../helpers/wait-for.js';

/** `npm run backfill` as users run it: the built command in its own process, its output and exit code. */
class BackfillCommand {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child;

  constructor(args: readonly string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [path.join(process.cwd(), 'dist/scripts/backfill.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env, ENV_FILE: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  kill(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter(Boolean);
  }
}

describe('npm run backfill', () => {
  let scenario: Scenario;
  let workers: InProcessPipeline | undefined;
  const commands: BackfillCommand[] = [];
  const env = () =>
    testEnv({ databaseUrl: scenario.db.url, prefix: scenario.prefix, coingeckoUrl: scenario.simulator.url });
  const backfill = (...args: string[]) => {
    const command = new BackfillCommand(args, env());
    commands.push(command);
    return command;
  };
  const startWorkers = async (workerEnv?: Record<string, string>) => {
    workers ??= await new InProcessPipeline(scenario.config(workerEnv)).start(['fetch']);
  };
  const stopWorkers = async () => {
    await workers?.stop();
    workers = undefined;
  };
  const historyCalls = (since: number) =>
    scenario.simulator.control.requests(since).filter((r) => r.path.endsWith('/market_chart/range'));
  const count = async (sql: string, params: unknown[] = []) =>
    (await scenario.db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;
  const coins = (from: number, n: number) => scenario.simulator.control.universeIds().slice(from, from + n);

  beforeAll(async () => {
    scenario = await createScenario({ coins: 1000 });
  });
  afterEach(async () => {
    await Promise.all(commands.splice(0).map((c) => c.kill()));
    await stopWorkers();
  });
  afterAll(() => scenario?.teardown());

  describe('exits 2 before any call, listing every problem, with nothing enqueued', () => {
    it.each([
      [
        'bad arguments',
        ['--days', '-1', '--ids', 'bitcoin,Not A Coin', '--from', '2026-11-02', '--to', '2026-11-01', '--bogus'],
        [
          '--days "-1": expected a whole number from 1 to 100000',
          '--ids: not CoinGecko coin ids',
          '"Not A Coin"',
          '--from 2026-11-02 is not before --to 2026-11-01',
          'unknown option --bogus',
        ],
      ],
      [
        "--days beyond the plan's history",
        ['--days', '400'],
        ["--days 400 reaches past the public plan's history limit", 'only the past 365 days', '--days 364 at most'],
      ],
    ])('%s', async (_what, args, expected) => {
      const since = Date.now();
      const command = backfill(...args);
      expect(await command.exited).toBe(2);
      for (const text of expected) expect(command.stderr).toContain(text);
      expect(command.stderr).toMatch(/^backfill: \d+ problems? with the arguments:\n/);
      expect(command.stdout).toBe('');
      expect(scenario.simulator.control.requests(since)).toEqual([]);
      expect(await count('select count(*)::int as n from pipeline.history_runs')).toBe(0);
      expect(await scenario.db.pool.query('select 1 from pipeline.history_items')).toMatchObject({ rowCount: 0 });
    });
  });

  it('backfills, printing progress and a summary, exits 0; the same command again adds 0 rows and makes no call', async () => {
    await startWorkers();
    const ids = coins(0, 5);
    const since = Date.now();
    const first = backfill('--days', '30', '--ids', ids.join(','));
    expect(await first.exited).toBe(0);
    expect(first.stderr).toBe('');
    const [header, ...rest] = first.lines;
    expect(header).toMatch(/^backfill b\d+: 5 coins, \S+ → \S+: 5 calls queued$/);
    expect(rest.at(-2)).toMatch(/^coins 5\/5 · calls 5\/5 · [\d,]+ rows · [\d.]+ calls\/min · done$/);
    const rows = await count('select count(*)::int as n from raw.coin_history_points');
    expect(rows).toBeGreaterThanOrEqual(5 * 30 * 24);
    expect(rest.at(-1)).toBe(
      `summary: 5 of 5 calls done, 0 failed, 0 pending; ${rows} rows stored, 0 points quarantined, 5 calls made`,
    );
    expect(historyCalls(since)).toHaveLength(5);

    const again = Date.now();
    const second = backfill('--days', '30', '--ids', ids.join(','));
    expect(await second.exited).toBe(0);
    expect(second.lines[0]).toMatch(/: 0 calls queued$/);
    expect(second.lines.at(-1)).toBe(
      'summary: 0 of 0 calls done, 0 failed, 0 pending; 0 rows stored, 0 points quarantined, 0 calls made',
    );
    expect(historyCalls(again)).toEqual([]);
    expect(await count('select count(*)::int as n from raw.coin_history_points')).toBe(rows);
  });

  it('exits 1 with an unknown coin: 404 recorded for it, the other coins backfilled', async () => {
    await startWorkers();
    const [known] = coins(10, 1);
    const since = Date.now();
    const command = backfill('--days', '2', '--ids', `${known},no-such-coin-xyz`);
    expect(await command.exited).toBe(1);
    expect(command.stdout).toContain('summary: 1 of 2 calls done, 1 failed, 0 pending;');
    expect(command.stdout).toMatch(/\n {2}failed no-such-coin-xyz: .*HTTP 404.*coin not found/);
    const { rows } = await scenario.db.pool.query(
      `select coin_id, status, http_status, calls from pipeline.history_items
        where coin_id = any($1) order by coin_id`,
      [[known, 'no-such-coin-xyz']],
    );
    expect(rows).toEqual(
      [
        { coin_id: 'no-such-coin-xyz', status: 'failed', http_status: 404, calls: 1 },
        { coin_id: known, status: 'done', http_status: 200, calls: 1 },
      ].sort((a, b) => a.coin_id.localeCompare(b.coin_id)),
    );
    // A 404 is permanent: one call, no retries.
    expect(historyCalls(since).filter((r) => r.status === 404)).toHaveLength(1);
  });

  it('exits 1 when it has no coin to backfill (no universe yet), saying why, with nothing recorded', async () => {
    const since = Date.now();
    const command = backfill('--days', '3', '--top', '10');
    expect(await command.exited).toBe(1);
    expect(command.stderr).toContain('backfill: no coins to backfill: raw.coins has no ranked coin yet');
    expect(scenario.simulator.control.requests(since)).toEqual([]);
    expect(
      await count(
        `select count(*)::int as n from pipeline.history_runs where created_at >= to_timestamp($1 / 1000.0)`,
        [since],
      ),
    ).toBe(0);
  });

  it('--detach returns once the calls are queued; the workers do them later', async () => {
    const ids = coins(20, 3);
    const command = backfill('--days', '3', '--ids', ids.join(','), '--detach');
    expect(await command.exited).toBe(0);
    expect(command.lines).toEqual([expect.stringMatching(/^backfill (b\d+): 3 coins, .*: 3 calls queued$/)]);
    const runId = /^backfill (b\d+)/.exec(command.lines[0]!)![1]!;
    expect(
      await count(
        `select count(*)::int as n from pipeline.history_items where history_run_id = $1 and status = 'pending'`,
        [runId],
      ),
    ).toBe(3);
    await startWorkers();
    await waitFor(
      'the detached run to finish',
      async () =>
        (await count(
          `select count(*)::int as n from pipeline.history_runs where history_run_id = $1 and status = 'done'`,
          [runId],
        )) === 1,
    );
  });

  it('a killed command resumes when run again: the new run waits for the old one, nothing is fetched twice', async () => {
    const ids = coins(30, 8);
    const args = ['--days', '10', '--ids', ids.join(',')];
    const since = Date.now();
    // One call at a time, each held 300 ms: the run is caught half done.
    scenario.simulator.control.setFaults({ latencyMs: 300 });
    try {
      const first = backfill(...args);
      await waitFor('the first command to queue its calls', async () => first.lines.length > 0);
      const oldRun = /^backfill (b\d+)/.exec(first.lines[0]!)![1]!;
      await startWorkers({ FETCH_CONCURRENCY: '1' });
      await waitFor('some calls done, some pending', async () => {
        const { rows } = await scenario.db.pool.query(
          `select count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'pending')::int as pending
             from pipeline.history_items where history_run_id = $1`,
          [oldRun],
        );
        return rows[0].done > 0 && rows[0].pending > 0;
      });
      expect(await first.kill()).toBe(null);
      // The workers stop too, so that the old run is still running when the command is run again.
      await stopWorkers();
      const pending = await count(
        `select count(*)::int as n from pipeline.history_items where history_run_id = $1 and status = 'pending'`,
        [oldRun],
      );
      expect(pending).toBeGreaterThan(0);

      const second = backfill(...args);
      await waitFor('the second command to start waiting', async () => second.lines.length > 0);
      await startWorkers();
      expect(await second.exited).toBe(0);
      expect(second.lines[0]).toMatch(
        new RegExp(`: 0 calls queued; waiting also for ${oldRun} \\(already fetching part of it\\)$`),
      );
      expect(second.lines.at(-1)).toMatch(
        /^summary: 8 of 8 calls done, 0 failed, 0 pending; \d+ rows stored, 0 points quarantined, 8 calls made$/,
      );
      // One call per coin in all: the second command fetched nothing the first had fetched or queued.
      const calls = historyCalls(since);
      expect(calls).toHaveLength(8);
      expect(new Set(calls.map((c) => c.path)).size).toBe(8);
      const { rows } = await scenario.db.pool.query(
        `select count(*)::int as n, count(distinct (coin_id, observed_at))::int as distinct_points
           from raw.coin_history_points where coin_id = any($1)`,
        [ids],
      );
      expect(rows[0].n).toBe(rows[0].distinct_points);
      expect(rows[0].n).toBeGreaterThanOrEqual(8 * 10 * 24);
    } finally {
      scenario.simulator.control.setFaults({ latencyMs: 0 });
    }
  });
});

import pg from 'pg';
import { startSimulator, type SimulatorHandle } from '../../simulator/server.js';
import { testConfig, testEnv } from './config.js';
import { urlAsRole, type TestDatabase } from './database.js';
import { InProcessPipeline } from './pipeline.js';
import { PipelineProcess } from './processes.js';
import { deletePrefix, testPrefix } from './redis.js';
import { refreshUniverse } from './scenario.js';
import { waitFor } from './wait-for.js';

/**
 * A pipeline against a given database (a private cluster, or a role-restricted URL) whose load
 * workers are real processes (dist/), so "the process stays up" is something a test can check;
 * planner, fetch and transform run in this process, whose runtime the test uses to enqueue ticks
 * and inspect queues.
 */
export interface LoaderRig {
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly simulator: SimulatorHandle;
  readonly pipeline: InProcessPipeline;
  readonly loaders: readonly PipelineProcess[];
  /** Where each load process's log is now, for {@link loaderLogs}. */
  logMark(): number[];
  /** JSON log entries with this message from every load process (since `mark`, if given). */
  loaderLogs(message: string, mark?: number[]): Record<string, unknown>[];
  /** Moves the simulated market one step on (new prices and last_updated for every coin). */
  nextMarketStep(): void;
  /** Fails the test if a load process has exited. */
  expectLoadersUp(): void;
  stop(): Promise<void>;
}

const STEP_MS = 60_000;

export async function startLoaderRig(options: {
  /** What the pipeline connects with. */
  databaseUrl: string;
  /** The role the load processes run as (e.g. cdp_loader), on `databaseUrl`; else they connect as the pipeline does. */
  loaderRole?: string;
  /** What the test asserts with (a superuser URL of the same database). */
  adminUrl?: string;
  coins: number;
  loaders?: number;
  env?: Record<string, string>;
}): Promise<LoaderRig> {
  const prefix = testPrefix();
  // A pinned market clock, moved one step per tick by nextMarketStep(): every coin then has a new
  // last_updated for each tick, so each tick's rows are all new and counts can be exact.
  let now = Date.now();
  const simulator = await startSimulator({ coins: options.coins, stepMs: STEP_MS, staleFraction: 0, clock: () => now });
  const adminUrl = options.adminUrl ?? options.databaseUrl;
  const pool = new pg.Pool({ connectionString: adminUrl, max: 3 });
  pool.on('error', () => undefined);
  const db: TestDatabase = { name: new URL(adminUrl).pathname.slice(1), url: adminUrl, pool, drop: () => pool.end() };
  const env = { TRACK_TOP_N: String(options.coins), ...options.env };
  const loaders: PipelineProcess[] = [];
  const exits = new Map<PipelineProcess, unknown>();
  let pipeline: InProcessPipeline | undefined;
  const stop = async () => {
    await Promise.all(loaders.map((p) => p.kill('SIGKILL')));
    await pipeline?.stop();
    await simulator.close();
    await deletePrefix(prefix);
    await pool.end().catch(() => undefined);
  };
  try {
    for (let i = 0; i < (options.loaders ?? 2); i++) {
      const loader = new PipelineProcess('load', {
        ...testEnv({
          databaseUrl: options.loaderRole ? urlAsRole(options.databaseUrl, options.loaderRole) : options.databaseUrl,
          prefix,
          coingeckoUrl: simulator.url,
        }),
        ...env,
        LOG_LEVEL: 'info',
      });
      void loader.exited.then((how) => exits.set(loader, how));
      loaders.push(loader);
    }
    pipeline = await new InProcessPipeline(
      testConfig({ databaseUrl: options.databaseUrl, prefix, coingeckoUrl: simulator.url, env }),
    ).start(['planner', 'fetch', 'transform']);
    await Promise.all(loaders.map((p) => p.waitForLog('load worker started')));
    await refreshUniverse(pipeline.runtime);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    db,
    prefix,
    simulator,
    pipeline,
    loaders,
    nextMarketStep: () => {
      now += STEP_MS;
    },
    logMark: () => loaders.map((l) => l.lines.length),
    loaderLogs: (message, mark) =>
      loaders.flatMap((loader, i) =>
        loader.lines.slice(mark?.[i] ?? 0).flatMap((line) => {
          try {
            const entry = JSON.parse(line) as Record<string, unknown>;
            return entry.message === message ? [entry] : [];
          } catch {
            return [];
          }
        }),
      ),
    expectLoadersUp() {
      for (const loader of loaders) {
        if (exits.has(loader))
          throw new Error(
            `load process ${loader.pid} exited (${JSON.stringify(exits.get(loader))}); last output:\n${loader.lines.slice(-15).join('\n')}`,
          );
      }
    },
    stop,
  };
}

/** Rows a run put into raw.coin_market_snapshots: total, distinct coins, and the coin ids. */
export async function loadedRows(
  db: TestDatabase,
  runId: string,
): Promise<{ n: number; coins: number; ids: string[] }> {
  const { rows } = await db.pool.query<{ n: number; coins: number; ids: string[] | null }>(
    'select count(*)::int as n, count(distinct coin_id)::int as coins, array_agg(distinct coin_id) as ids from raw.coin_market_snapshots where run_id = $1',
    [runId],
  );
  return { n: rows[0]!.n, coins: rows[0]!.coins, ids: [...(rows[0]!.ids ?? [])].sort() };
}

/**
 * Parks loads inside their transaction: a blocker holds SHARE ROW EXCLUSIVE on the raw table, so
 * each load, its batch row locked in the ledger, waits in the statement that writes raw (COPY into
 * raw.coin_market_snapshots). Resolves once `slots` loads wait there; release() lets them go.
 * Partitions must exist beforehand (creating one needs a lock the blocker holds up).
 */
export async function parkLoads(
  rig: LoaderRig,
  slots: number,
): Promise<{ parked: number; release: () => Promise<void> }> {
  const blocker = new pg.Client({ connectionString: rig.db.url, application_name: 'test-blocker' });
  blocker.on('error', () => undefined); // a server restart ends this session too
  await blocker.connect();
  await blocker.query('begin');
  await blocker.query('lock table raw.coin_market_snapshots in share row exclusive mode');
  try {
    const parked = await waitFor(
      `${slots} loads waiting inside their transaction`,
      async () => {
        const { rows } = await rig.db.pool.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where application_name = 'cdp-load-worker' and wait_event_type = 'Lock' and query ~* '^\\s*(copy|insert into) raw\\.coin_market_snapshots'",
        );
        return rows[0]!.n === slots ? rows[0]!.n : undefined;
      },
      30_000,
    );
    return { parked, release: () => blocker.end().catch(() => undefined) };
  } catch (error) {
    await blocker.end().catch(() => undefined);
    throw error;
  }
}

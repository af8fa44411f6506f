import winston from 'winston';
import { createApp, type AppDeps } from '../../dashboard/app.js';
import { Runtime } from '../../core/runtime.js';
import { InProcessPipeline } from '../helpers/pipeline.js';
import { createScenario, refreshUniverse, runTick, type Scenario } from '../helpers/scenario.js';
import { serve, type Served } from './http.js';

export const USER = 'operator';
export const PASSWORD = 'sentinel-Pw-7c2e19a4f0';

/** The dashboard over a pipeline that really ran: simulator → fetch → load → bundled dbt → marts. */
export interface MarketFixture {
  readonly scenario: Scenario;
  readonly pipeline: InProcessPipeline;
  readonly url: string;
  /** Every SQL text the dashboard sent (to prove it reads marts and pipeline tables only). */
  readonly queries: string[];
  /** The coin whose records the simulator always sends malformed (they end up quarantined). */
  readonly invalidCoinId: string;
  /** Runs one more tick, tickMinutes of simulated market time after the previous one. */
  tick(): Promise<string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each assertion names the row shape it reads
  q<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startMarketFixture(options: {
  coins: number;
  ticks: number;
  tickMinutes?: number;
  events?: AppDeps['events'];
}): Promise<MarketFixture> {
  // Ticks ending now, so every chart range and the freshness check see recent data.
  const stepMs = (options.tickMinutes ?? 60) * 60_000;
  let now = Date.now() - options.ticks * stepMs;
  const scenario = await createScenario({ coins: options.coins, clock: () => now });
  const invalidCoinId = scenario.simulator.control.universeIds()[options.coins - 1]!;
  scenario.simulator.control.setFaults({ invalidCoinIds: [invalidCoinId] });
  const config = scenario.config({
    TRACK_TOP_N: String(options.coins),
    TRANSFORM_RUNNER: 'bundled',
    DASHBOARD_USER: USER,
    DASHBOARD_PASSWORD: PASSWORD,
  });
  const pipeline = await new InProcessPipeline(config).start();
  const tick = async () => {
    now += stepMs;
    const { runId, transform } = await runTick(pipeline.runtime, scenario.db);
    if (transform.failedReason) throw new Error(`tick ${runId}: transform failed: ${transform.failedReason}`);
    return runId;
  };
  await refreshUniverse(pipeline.runtime);
  for (let i = 0; i < options.ticks; i++) await tick();

  const queries: string[] = [];
  const pool = scenario.db.pool;
  // A recording view of the pool: the app only calls query().
  const recording = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (text: unknown, ...rest: unknown[]) => {
          queries.push(typeof text === 'string' ? text : String((text as { text?: string }).text));
          return (target.query as (...args: unknown[]) => unknown).call(target, text, ...rest);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  // The dashboard's own connections, as in its process: the pipeline may stop and start under it.
  const silent = winston.createLogger({ silent: true });
  const runtime = new Runtime(config, silent, 'dashboard');
  const app = createApp({
    config,
    pool: recording,
    redis: runtime.redis,
    queues: (key) => runtime.queue(key),
    checkMigrations: async () => false,
    events: options.events,
    logger: silent,
  });
  const served: Served = await serve(app);
  return {
    scenario,
    pipeline,
    url: served.url,
    queries,
    invalidCoinId,
    tick,
    q: async (sql, params = []) => (await pool.query(sql, params)).rows,
    async close() {
      await served.close();
      await pipeline.stop();
      await runtime.close();
      await scenario.teardown();
    },
  };
}

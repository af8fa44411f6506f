import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { jsonArrayItems } from '../../core/coingecko/json-array-items.js';
import { validateMarketRecord, type MarketRecord } from '../../core/coingecko/market-record.js';
import { createDataSource } from '../../core/db/data-source.js';
import { MarketSnapshot } from '../../core/db/entities/market-snapshot.js';
import { encodeParkedBatch, parkBatch } from '../../core/handoff/parked-batch.js';
import { encodeForParking } from '../../core/snapshots/loaded-keys.js';
import { ensurePartitionsFor } from '../../core/snapshots/partitions.js';
import { snapshotCopyLine, type SnapshotContext } from '../../core/snapshots/snapshot-row.js';
import { validateSnapshotBatch } from '../../core/snapshots/validated-batch.js';
import { loadParkedBatch } from '../../workers/load/handle-load.js';
import type { Benchmark, BenchContext, Measurement } from '../benchmark.js';
import { describeCpu, measureCpu } from '../cpu-usage.js';
import { BENCH_REDIS_URL } from '../services.js';
import { perSecond } from '../stats.js';
import { psqlCopy, writeFixtureCsv, type PsqlCopyRun } from './copy-reference.js';
import { multiRowInsert } from './insert-baseline.js';
import { benchPool, countRows, planRuns, resetRawTable, runLoaders, trackedPool, withItems } from './load-path.js';
import { processCpuMs } from './process-cpu.js';
import { BATCH_SIZE, snapshotFixture, type BatchRef, type SnapshotFixture } from './snapshot-fixture.js';
import { typeormSave } from './typeorm-baseline.js';

const COINS = Number(process.env.BENCH_LOAD_COINS ?? 15_000);
const STEPS = Number(process.env.BENCH_LOAD_STEPS ?? 10);
/** TypeORM save() is slow enough that it gets a time box instead of the whole fixture. */
const TYPEORM_BUDGET_MS = 20_000;

/** One timed pass of the project's load path. */
interface LoadRun {
  readonly ms: number;
  /** CPU of this (loader) process: Redis read, split, parse, validate, encode, pg driver, COPY stream. */
  readonly nodeCpuMs: number;
  /** CPU of the Postgres backends of the loader connections. */
  readonly backendCpuMs: number;
}

const seconds = (ms: number) => ms / 1000;
const perRowUs = (ms: number, rows: number) => `${((ms * 1000) / rows).toFixed(1)} µs/row`;

export const loadBenchmark: Benchmark = {
  name: 'load',
  description: `${COINS * STEPS} snapshot rows: the load worker's per-batch path (1 and 2 loaders; batches prepared and key-checked by the fetch workers, unchecked, and prepared in the timed process) vs psql \\copy, multi-row INSERT, TypeORM save(); CPU-s of Node and of the Postgres backends`,
  budgetMs: 420_000,
  async run(ctx) {
    const db = await ctx.database();
    const admin = benchPool(db.url, 2);
    ctx.defer(() => admin.end());
    const redis = new Redis(BENCH_REDIS_URL);
    ctx.defer(() => redis.disconnect());
    const prefix = ctx.prefix();
    const fixture = await snapshotFixture(COINS, STEPS);
    ctx.log(`fixture: ${fixture.rows} records from the simulator, ${fixture.bodies.flat().length} bodies`);
    await ensurePartitionsFor(admin, fixture.timestamps);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cdp-bench-load-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const csv = path.join(dir, 'snapshots.csv');
    const csvRows = await writeFixtureCsv(fixture, csv);

    const rows = fixture.rows;
    const check = async (what: string) => {
      const n = await countRows(admin);
      if (n !== rows) throw new Error(`${what} left ${n} rows, expected ${rows}`);
    };

    // (b) the physical reference, measured first and last; the faster run counts.
    const copyRuns: PsqlCopyRun[] = [];
    const reference = async () => {
      await resetRawTable(admin);
      const { result: run, cpu } = await measureCpu(() => psqlCopy(db.url, 'raw.coin_market_snapshots', csv));
      copyRuns.push(run);
      await check('psql \\copy');
      ctx.log(
        `psql \\copy: ${Math.round(run.ms)} ms for ${csvRows} rows; psql CPU ${run.psqlCpuMs} ms, its backend ${run.backendCpuMs} ms; ${describeCpu(cpu)}`,
      );
    };
    await reference();

    // (a) the project's load path: what a load job does per batch once it knows where its batch is parked.
    let pass = 0;
    /** CPU the fetch workers spend preparing the batches (validate, check keys, encode) after their calls. */
    const prepareCpuMs: number[] = [];
    /** Wall time of preparing every batch, with the fetch workers' key checks (one query per batch) and without. */
    const prepareWallMs = { checked: [] as number[], unchecked: [] as number[] };
    /**
     * `checked`: parked as the fetch worker parks a markets batch, keys already loaded left out, so
     * the load transaction looks none up. `unchecked`: parked without the key check (as when the fetch
     * worker's key check fails), so the load transaction looks its keys up, as every load did before.
     * `prepared in the timed process`: each batch parsed, validated, encoded and parked (no key check)
     * just before its load, in the timed process, so nothing the pipeline does per row is outside
     * the figure; the load then looks its keys up.
     */
    const loadPath = async (
      concurrency: number,
      parked: 'checked' | 'unchecked' | 'prepared in the timed process' = 'checked',
    ): Promise<LoadRun> => {
      await resetRawTable(admin);
      // New run ids every pass: a batch already marked loaded would be skipped, as in production.
      const runPrefix = `a${concurrency}${parked[0]}x${pass++}x`;
      const refs = await planRuns(admin, fixture, runPrefix);
      const jobs = refs.map((ref) => ({
        input: contextOf(ref),
        body: fixture.bodies[ref.step]![ref.batchNo]!,
        key: `${prefix}:payload:load-${ref.runId}-${ref.batchNo}`,
      }));
      const preparedInTimedProcess = parked === 'prepared in the timed process';
      // The fetch workers' part, untimed.
      const prepareStarted = process.cpuUsage();
      const prepareWallStarted = performance.now();
      const encoded: Buffer[] = [];
      for (const { input, body } of preparedInTimedProcess ? [] : jobs) {
        if (parked === 'unchecked') encoded.push(unchecked(input, body));
        else {
          const { parked: bytes, checkFailed } = await encodeForParking(
            admin,
            input,
            JSON.parse(body) as unknown[],
            () => jsonArrayItems(body),
          );
          if (checkFailed) throw checkFailed;
          encoded.push(bytes);
        }
      }
      const prepareCpu = process.cpuUsage(prepareStarted);
      if (!preparedInTimedProcess) prepareWallMs[parked].push(performance.now() - prepareWallStarted);
      if (parked === 'checked') prepareCpuMs.push((prepareCpu.user + prepareCpu.system) / 1000);
      await Promise.all(encoded.map((bytes, i) => parkBatch(redis, jobs[i]!.key, bytes, 600_000)));
      encoded.length = 0;
      const { pool, backendPids } = trackedPool(db.url, concurrency + 1);
      try {
        const { result: ms, cpu } = await measureCpu(() =>
          runLoaders(
            jobs,
            concurrency,
            async ({ input, body, key }) => {
              if (preparedInTimedProcess) await parkBatch(redis, key, unchecked(input, body), 600_000);
              const outcome = await loadParkedBatch({ pool, redis }, key, input);
              if (outcome.status !== 'loaded' || outcome.recordsRejected > 0)
                throw new Error(`batch ${input.runId}/${input.batchNo}: ${JSON.stringify(outcome)}`);
            },
            ctx.signal,
          ),
        );
        const backendCpuMs = backendPids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
        await check(`load path x${concurrency}`);
        if ((await redis.exists(...jobs.map((j) => j.key))) !== 0)
          throw new Error('load path left parked batches in Redis');
        ctx.log(
          `load path x${concurrency} (${preparedInTimedProcess ? parked : `${parked} parked`}): ${Math.round(ms)} ms; Node CPU ${Math.round(cpu.processMs)} ms (${perRowUs(cpu.processMs, rows)}), ` +
            `backends ${backendCpuMs} ms (${perRowUs(backendCpuMs, rows)}); ${describeCpu(cpu)}`,
        );
        return { ms, nodeCpuMs: cpu.processMs, backendCpuMs };
      } finally {
        await pool.end();
      }
    };
    // Each twice, interleaved, the faster counting (as for the reference): the first pass also warms the JIT.
    const a1Runs = [await loadPath(1)];
    const a2Runs = [await loadPath(2)];
    a1Runs.push(await loadPath(1));
    a2Runs.push(await loadPath(2));
    const fastest = (runs: LoadRun[]) => runs.reduce((best, r) => (r.ms < best.ms ? r : best));
    const a1 = fastest(a1Runs);
    const a2 = fastest(a2Runs);
    // The same two loaders with the fetch workers' preparation done in the timed process too, so
    // nothing the pipeline does per row is outside this figure.
    const a2plain = fastest([
      await loadPath(2, 'prepared in the timed process'),
      await loadPath(2, 'prepared in the timed process'),
    ]);
    // Keys looked up inside the load transaction, as every load did before the fetch workers checked them.
    const a2unchecked = fastest([await loadPath(2, 'unchecked'), await loadPath(2, 'unchecked')]);
    const prepareMs = Math.min(...prepareCpuMs);
    const batches = fixture.bodies.flat().length;
    const checkPerBatchMs = (Math.min(...prepareWallMs.checked) - Math.min(...prepareWallMs.unchecked)) / batches;
    ctx.log(
      `fetch-side preparation: ${Math.round(prepareMs)} ms CPU (${perRowUs(prepareMs, rows)}); wall ${Math.round(Math.min(...prepareWallMs.checked))} ms ` +
        `with the key checks, ${Math.round(Math.min(...prepareWallMs.unchecked))} ms without: ${checkPerBatchMs.toFixed(2)} ms per batch`,
    );

    // Where the fetch workers' preparation CPU goes: each step alone, over the same bodies.
    const steps = preparationSteps(fixture);
    ctx.log(
      `preparation CPU per step: ${[...steps].map(([step, ms]) => `${step} ${Math.round(ms)} ms (${perRowUs(ms, rows)})`).join(', ')}`,
    );

    // (c) multi-row parameterized INSERT, one connection (parsing each body included, as for (a)).
    await resetRawTable(admin);
    const insertInputs = await planRuns(admin, fixture, 'c');
    const { result: insertMs, cpu: insertCpu } = await measureCpu(() =>
      runLoaders(insertInputs, 1, (ref) => multiRowInsert(admin, withItems(fixture, ref)), ctx.signal),
    );
    await check('multi-row INSERT');
    const c = perSecond(rows, insertMs);
    ctx.log(`multi-row INSERT: ${Math.round(insertMs)} ms; ${describeCpu(insertCpu)}`);

    // (d) TypeORM save(), time-boxed.
    const d = await typeormRate(ctx, db.url, fixture, admin);

    await reference();
    const b = copyRuns.reduce((best, r) => (r.ms < best.ms ? r : best));
    const bRate = perSecond(csvRows, b.ms);
    const copyRef = 'psql \\copy (1 stream, CSV)';
    const bCpu = `psql \\copy: psql + its backend`;
    return [
      {
        metric: 'load path, 1 loader (a1/b)',
        value: perSecond(rows, a1.ms),
        unit: 'rows/s',
        reference: copyRef,
        referenceValue: bRate,
      },
      {
        metric: 'load path, 2 loaders (a2/b)',
        value: perSecond(rows, a2.ms),
        unit: 'rows/s',
        reference: copyRef,
        referenceValue: bRate,
      },
      {
        metric: 'load path, 2 loaders, keys looked up in the load (a2u/b)',
        value: perSecond(rows, a2unchecked.ms),
        unit: 'rows/s',
        reference: copyRef,
        referenceValue: bRate,
      },
      {
        metric: 'load path, 2 loaders, preparation included (a2p/b)',
        value: perSecond(rows, a2plain.ms),
        unit: 'rows/s',
        reference: copyRef,
        referenceValue: bRate,
      },
      {
        metric: 'load path, 1 loader (a1/c)',
        value: perSecond(rows, a1.ms),
        unit: 'rows/s',
        reference: 'multi-row INSERT, 250 rows/stmt, 1 conn',
        referenceValue: c,
      },
      {
        metric: 'load path, 1 loader (a1/d)',
        value: perSecond(rows, a1.ms),
        unit: 'rows/s',
        reference: `TypeORM save(), ${Math.round(TYPEORM_BUDGET_MS / 1000)}s sample`,
        referenceValue: d,
      },
      // Issue 18's figure: everything the pipeline spends per row (fetch workers' preparation with
      // their key checks, 2 loaders, their backends) against psql \copy of the same rows.
      {
        metric: 'CPU-s end to end: fetch-side preparation + 2 loaders + backends (lower is better)',
        value: seconds(prepareMs + a2.nodeCpuMs + a2.backendCpuMs),
        unit: 's',
        reference: bCpu,
        referenceValue: seconds(b.psqlCpuMs + b.backendCpuMs),
      },
      // CPU-seconds for the whole fixture: steadier than rows/s on a shared machine. Lower is better.
      {
        metric: 'CPU-s, 2 loaders: Node + backends (lower is better)',
        value: seconds(a2.nodeCpuMs + a2.backendCpuMs),
        unit: 's',
        reference: bCpu,
        referenceValue: seconds(b.psqlCpuMs + b.backendCpuMs),
      },
      {
        metric: 'CPU-s, 2 loaders: Node loader process',
        value: seconds(a2.nodeCpuMs),
        unit: 's',
        reference: 'psql process',
        referenceValue: seconds(b.psqlCpuMs),
      },
      {
        metric: 'CPU-s, 2 loaders: Postgres backends',
        value: seconds(a2.backendCpuMs),
        unit: 's',
        reference: "psql's backend",
        referenceValue: seconds(b.backendCpuMs),
      },
      {
        metric: 'CPU-s, fetch-side preparation (validate, check keys, encode; fetch workers)',
        value: seconds(prepareMs),
        unit: 's',
        reference: 'psql process',
        referenceValue: seconds(b.psqlCpuMs),
      },
      // The key check's wall time per batch is the fetch worker's; its load transaction no longer waits on it.
      {
        metric: 'fetch-side key check, wall per batch (one query, no lock)',
        value: checkPerBatchMs,
        unit: 'ms',
        reference: 'psql \\copy, per 250 rows',
        referenceValue: (b.ms * BATCH_SIZE) / csvRows,
      },
      {
        metric: 'CPU-s, 2 loaders, preparation included: Node + backends',
        value: seconds(a2plain.nodeCpuMs + a2plain.backendCpuMs),
        unit: 's',
        reference: bCpu,
        referenceValue: seconds(b.psqlCpuMs + b.backendCpuMs),
      },
      {
        metric: 'CPU-s, 1 loader: Node + backends (lower is better)',
        value: seconds(a1.nodeCpuMs + a1.backendCpuMs),
        unit: 's',
        reference: bCpu,
        referenceValue: seconds(b.psqlCpuMs + b.backendCpuMs),
      },
      ...[...steps.entries()].map(([step, ms]): Measurement => ({
        metric: `CPU-s, fetch-side preparation: ${step}`,
        value: seconds(ms),
        unit: 's',
        reference: 'CPU-s, fetch-side preparation, whole',
        referenceValue: seconds(prepareMs),
      })),
      {
        metric: 'CPU-s, 1 loader: Node (Redis read, key lookup, COPY, ledger, GC)',
        value: seconds(a1.nodeCpuMs),
        unit: 's',
        reference: 'psql process',
        referenceValue: seconds(b.psqlCpuMs),
      },
    ];
  },
};

const contextOf = ({ runId, batchNo, vsCurrency }: BatchRef): SnapshotContext => ({ runId, batchNo, vsCurrency });

/** A body validated and encoded as the fetch worker parks it when its key check fails (nothing left out). */
function unchecked(context: SnapshotContext, body: string): Buffer {
  return encodeParkedBatch(
    context,
    validateSnapshotBatch(context, JSON.parse(body) as unknown[], () => jsonArrayItems(body)),
  );
}

/** CPU of each step of a fetch worker's preparation of its batch, run alone over every body of the fixture. */
function preparationSteps(fixture: SnapshotFixture): Map<string, number> {
  const steps = new Map<string, number>();
  const timed = <T>(step: string, work: () => T): T => {
    const started = process.cpuUsage();
    const result = work();
    const spent = process.cpuUsage(started);
    steps.set(step, (steps.get(step) ?? 0) + (spent.user + spent.system) / 1000);
    return result;
  };
  const context = { runId: 'bench', batchNo: 0, vsCurrency: 'usd' };
  for (const body of fixture.bodies.flat()) {
    // The CoinGecko client parses the body whole (records' texts are cut from it only for a rejected record).
    const items = timed('JSON.parse the body', () => JSON.parse(body) as unknown[]);
    const records = timed('validate', () =>
      items.map((item) => validateMarketRecord(item)).flatMap((r) => (r.ok ? [r.record] : [])),
    );
    const lines = timed('encode COPY lines', () =>
      records.map((record: MarketRecord) => snapshotCopyLine(record, context)),
    );
    timed('to UTF-8 and park format', () =>
      encodeParkedBatch(context, {
        recordsReceived: items.length,
        coinIds: records.map((r) => r.id),
        lastUpdated: records.map((r) => r.lastUpdated),
        lines,
        rejected: [],
        unknownFields: {},
      }),
    );
  }
  return steps;
}

async function typeormRate(
  ctx: BenchContext,
  url: string,
  fixture: SnapshotFixture,
  admin: ReturnType<typeof benchPool>,
): Promise<number> {
  await resetRawTable(admin);
  const refs = await planRuns(admin, fixture, 'd');
  const dataSource = createDataSource(url, { poolMax: 2 });
  await dataSource.initialize();
  try {
    const repository = dataSource.getRepository(MarketSnapshot);
    let saved = 0;
    const started = performance.now();
    for (const ref of refs) {
      ctx.signal.throwIfAborted();
      if (performance.now() - started > TYPEORM_BUDGET_MS) break;
      const input = withItems(fixture, ref);
      await typeormSave(repository, input);
      saved += input.items.length;
    }
    const ms = performance.now() - started;
    const n = await countRows(admin);
    if (n !== saved) throw new Error(`TypeORM save() left ${n} rows, expected ${saved}`);
    ctx.log(`TypeORM save(): ${saved} rows in ${Math.round(ms)} ms`);
    return perSecond(saved, ms);
  } finally {
    await dataSource.destroy();
  }
}

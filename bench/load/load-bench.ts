import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDataSource } from '../../core/db/data-source.js';
import { MarketSnapshot } from '../../core/db/entities/market-snapshot.js';
import { loadSnapshotBatch } from '../../core/snapshots/load-snapshots.js';
import { ensurePartitionsFor } from '../../core/snapshots/partitions.js';
import type { Benchmark, BenchContext, Measurement } from '../benchmark.js';
import { describeCpu, measureCpu } from '../cpu-usage.js';
import { perSecond } from '../stats.js';
import { psqlCopy, writeFixtureCsv } from './copy-reference.js';
import { multiRowInsert } from './insert-baseline.js';
import { loadBatchPhased, type LoadVariant, type Phases } from './load-phases.js';
import { benchPool, countRows, planRuns, resetRawTable, runLoaders } from './load-path.js';
import { snapshotFixture, type SnapshotFixture } from './snapshot-fixture.js';
import { typeormSave } from './typeorm-baseline.js';

const COINS = Number(process.env.BENCH_LOAD_COINS ?? 15_000);
const STEPS = Number(process.env.BENCH_LOAD_STEPS ?? 10);
/** TypeORM save() is slow enough that it gets a time box instead of the whole fixture. */
const TYPEORM_BUDGET_MS = 20_000;

export const loadBenchmark: Benchmark = {
  name: 'load',
  description: `${COINS * STEPS} snapshot rows: loadSnapshotBatch (1 and 2 loaders) vs psql \\copy, multi-row INSERT, TypeORM save(); phase breakdown and candidate fixes`,
  budgetMs: 420_000,
  async run(ctx) {
    const db = await ctx.database();
    const admin = benchPool(db.url, 2);
    ctx.defer(() => admin.end());
    const fixture = await snapshotFixture(COINS, STEPS);
    ctx.log(`fixture: ${fixture.rows} records from the simulator`);
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
    const copyRuns: number[] = [];
    const reference = async () => {
      await resetRawTable(admin);
      const { result: ms, cpu } = await measureCpu(() => psqlCopy(db.url, 'raw.coin_market_snapshots', csv));
      copyRuns.push(ms);
      await check('psql \\copy');
      ctx.log(`psql \\copy: ${Math.round(ms)} ms for ${csvRows} rows; ${describeCpu(cpu)}`);
    };
    await reference();

    // (a) the project's load path, as the load worker calls it.
    let pass = 0;
    const loadPath = async (concurrency: number) => {
      await resetRawTable(admin);
      // New run ids every pass: a batch already marked loaded would be skipped, as in production.
      const inputs = await planRuns(admin, fixture, `a${concurrency}x${pass++}x`);
      const pool = benchPool(db.url, concurrency + 1);
      try {
        const { result: ms, cpu } = await measureCpu(() => runLoaders(inputs, concurrency, (input) => loadSnapshotBatch(pool, input), ctx.signal));
        await check(`loadSnapshotBatch x${concurrency}`);
        ctx.log(`loadSnapshotBatch x${concurrency}: ${Math.round(ms)} ms; ${describeCpu(cpu)}`);
        return perSecond(rows, ms);
      } finally {
        await pool.end();
      }
    };
    // Each twice, interleaved, the faster counting (as for the reference): the first pass also warms the JIT.
    const a1Runs = [await loadPath(1)];
    const a2Runs = [await loadPath(2)];
    a1Runs.push(await loadPath(1));
    a2Runs.push(await loadPath(2));
    const a1 = Math.max(...a1Runs);
    const a2 = Math.max(...a2Runs);

    // (c) multi-row parameterized INSERT, one connection.
    await resetRawTable(admin);
    const insertInputs = await planRuns(admin, fixture, 'c');
    const { result: insertMs, cpu: insertCpu } = await measureCpu(() => runLoaders(insertInputs, 1, (input) => multiRowInsert(admin, input), ctx.signal));
    await check('multi-row INSERT');
    const c = perSecond(rows, insertMs);
    ctx.log(`multi-row INSERT: ${Math.round(insertMs)} ms; ${describeCpu(insertCpu)}`);

    // (d) TypeORM save(), time-boxed.
    const d = await typeormRate(ctx, db.url, fixture, admin);

    // Where loadSnapshotBatch's time goes, and what the candidate fixes buy.
    const phases = await phased(ctx, db.url, admin, fixture, { write: 'staged-copy' }, 1);
    const variants: [string, LoadVariant, number][] = [
      ['staged COPY + async commit', { write: 'staged-copy', asyncCommit: true }, 1],
      ['COPY straight into raw', { write: 'direct-copy' }, 1],
      ['insert from json_populate_recordset', { write: 'json-recordset' }, 1],
      ['COPY straight into raw', { write: 'direct-copy' }, 2],
      ['COPY straight into raw + async commit', { write: 'direct-copy', asyncCommit: true }, 2],
      ['staged COPY + async commit', { write: 'staged-copy', asyncCommit: true }, 2],
    ];
    const variantRates: [string, number][] = [];
    for (const [label, variant, concurrency] of variants) {
      const result = await phased(ctx, db.url, admin, fixture, variant, concurrency);
      variantRates.push([`variant: ${label}, ${concurrency} loader${concurrency > 1 ? 's' : ''}`, perSecond(rows, result.ms)]);
    }

    await reference();
    const b = perSecond(csvRows, Math.min(...copyRuns));
    const copyRef = 'psql \\copy (1 stream, CSV)';
    const totalPhases = [...phases.phases.values()].reduce((s, v) => s + v, 0);
    const out: Measurement[] = [
      { metric: 'loadSnapshotBatch, 1 loader (a1/b)', value: a1, unit: 'rows/s', reference: copyRef, referenceValue: b },
      { metric: 'loadSnapshotBatch, 2 loaders (a2/b)', value: a2, unit: 'rows/s', reference: copyRef, referenceValue: b },
      { metric: 'loadSnapshotBatch, 1 loader (a1/c)', value: a1, unit: 'rows/s', reference: 'multi-row INSERT, 250 rows/stmt, 1 conn', referenceValue: c },
      { metric: 'loadSnapshotBatch, 1 loader (a1/d)', value: a1, unit: 'rows/s', reference: `TypeORM save(), ${Math.round(TYPEORM_BUDGET_MS / 1000)}s sample`, referenceValue: d },
      ...[...phases.phases.entries()].map(([phase, ms]): Measurement => ({
        metric: `phase (1 loader): ${phase}`, value: ms, unit: 'ms', reference: 'sum of phases', referenceValue: totalPhases,
      })),
      ...variantRates.map(([metric, value]): Measurement => ({ metric, value, unit: 'rows/s', reference: copyRef, referenceValue: b })),
    ];
    return out;
  },
};

async function phased(ctx: BenchContext, url: string, admin: ReturnType<typeof benchPool>, fixture: SnapshotFixture, variant: LoadVariant, concurrency: number): Promise<{ phases: Phases; ms: number }> {
  await resetRawTable(admin);
  const inputs = await planRuns(admin, fixture, `p${Math.random().toString(36).slice(2, 8)}`);
  const pool = benchPool(url, concurrency);
  const phases: Phases = new Map();
  try {
    const { result: ms, cpu } = await measureCpu(() => runLoaders(inputs, concurrency, (input) => loadBatchPhased(pool, input, variant, phases), ctx.signal));
    ctx.log(describeCpu(cpu));
    const n = await countRows(admin);
    if (n !== fixture.rows) throw new Error(`variant ${JSON.stringify(variant)} left ${n} rows`);
    ctx.log(`${JSON.stringify(variant)} x${concurrency}: ${Math.round(ms)} ms; ${[...phases].map(([p, v]) => `${p} ${Math.round(v)}`).join(', ')}`);
    return { phases, ms };
  } finally {
    await pool.end();
  }
}

async function typeormRate(ctx: BenchContext, url: string, fixture: SnapshotFixture, admin: ReturnType<typeof benchPool>): Promise<number> {
  await resetRawTable(admin);
  const inputs = await planRuns(admin, fixture, 'd');
  const dataSource = createDataSource(url, { poolMax: 2 });
  await dataSource.initialize();
  try {
    const repository = dataSource.getRepository(MarketSnapshot);
    let saved = 0;
    const started = performance.now();
    for (const input of inputs) {
      ctx.signal.throwIfAborted();
      if (performance.now() - started > TYPEORM_BUDGET_MS) break;
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

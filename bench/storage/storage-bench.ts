import { Redis } from 'ioredis';
import type pg from 'pg';
import { jsonArrayItems } from '../../core/coingecko/json-array-items.js';
import { validateMarketRecord } from '../../core/coingecko/market-record.js';
import { copyBuffers, copyTextEscape } from '../../core/db/copy-text.js';
import { parkBatch } from '../../core/handoff/parked-batch.js';
import { encodeForParking } from '../../core/snapshots/loaded-keys.js';
import { ensurePartitionsFor } from '../../core/snapshots/partitions.js';
import { SNAPSHOT_COLUMNS } from '../../core/snapshots/raw-columns.js';
import { snapshotCopyLine } from '../../core/snapshots/snapshot-row.js';
import { loadParkedBatch } from '../../workers/load/handle-load.js';
import type { Benchmark, Measurement } from '../benchmark.js';
import { BENCH_REDIS_URL } from '../services.js';
import { benchPool, countRows, planRuns, resetRawTable, runLoaders } from '../load/load-path.js';
import { snapshotFixture, type SnapshotFixture } from '../load/snapshot-fixture.js';

const COINS = Number(process.env.BENCH_STORAGE_COINS ?? 15_000);
const STEPS = Number(process.env.BENCH_STORAGE_STEPS ?? 10);
/** What the pipeline's client asks CoinGecko for (price_change_percentage), so the rows carry them. */
const CHANGE_WINDOWS = ['1h', '24h', '7d'];
/** Issue 18's target for a CoinGecko-shaped raw row, indexes and TOAST included. */
const TARGET_BYTES_PER_ROW = 350;

/** Bytes on disk of raw.coin_market_snapshots' partitions (or of one plain table), by part. */
interface Footprint {
  readonly heap: number;
  readonly toast: number;
  readonly indexes: number;
  readonly total: number;
}

const FOOTPRINT_OF_PARTITIONS = `
  select coalesce(sum(pg_relation_size(c.oid)), 0)::float8 as heap,
         coalesce(sum(pg_total_relation_size(c.reltoastrelid)), 0)::float8 as toast,
         coalesce(sum(pg_indexes_size(c.oid)), 0)::float8 as indexes,
         coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 as total
    from pg_partition_tree('raw.coin_market_snapshots') p
    join pg_class c on c.oid = p.relid
   where p.isleaf`;

async function footprint(pool: pg.Pool, table?: string): Promise<Footprint> {
  await pool.query(`vacuum analyze ${table ?? 'raw.coin_market_snapshots'}`);
  const { rows } = await pool.query<Footprint>(
    table === undefined
      ? FOOTPRINT_OF_PARTITIONS
      : `select pg_relation_size(c.oid)::float8 as heap,
                coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::float8 as toast,
                pg_indexes_size(c.oid)::float8 as indexes, pg_total_relation_size(c.oid)::float8 as total
           from pg_class c where c.oid = $1::regclass`,
    table === undefined ? [] : [table],
  );
  return rows[0]!;
}

const perRow = (f: Footprint, rows: number) =>
  `${Math.round(f.total / rows)} B/row (heap ${Math.round(f.heap / rows)}, TOAST ${Math.round(f.toast / rows)}, indexes ${Math.round(f.indexes / rows)})`;

/**
 * The rows as the design before migration 1765500000000 stored them: typed columns plus the whole
 * record as sent in `record`. Same COPY lines as the load path's, with the last two columns
 * (record_extra, record_untyped) swapped for the record's text.
 */
async function loadWholeRecords(pool: pg.Pool, fixture: SnapshotFixture): Promise<void> {
  const columns = [...SNAPSHOT_COLUMNS.filter((c) => c !== 'record_extra' && c !== 'record_untyped'), 'record'];
  if (columns.length !== SNAPSHOT_COLUMNS.length - 1 || SNAPSHOT_COLUMNS.at(-1) !== 'record_untyped')
    throw new Error('storage bench: the COPY columns no longer end in record_extra, record_untyped');
  const client = await pool.connect();
  try {
    for (const [step, bodies] of fixture.bodies.entries()) {
      let chunk = '';
      for (const [batchNo, body] of bodies.entries()) {
        const texts = jsonArrayItems(body);
        (JSON.parse(body) as unknown[]).forEach((item, i) => {
          const result = validateMarketRecord(item);
          if (!result.ok) throw new Error(`fixture record rejected: ${result.reason}`);
          const line = snapshotCopyLine(result.record, { runId: `bref${step}`, batchNo, vsCurrency: 'usd' });
          const cut = line.lastIndexOf('\t', line.lastIndexOf('\t') - 1);
          chunk += `${line.slice(0, cut)}\t${copyTextEscape(texts[i]!)}\n`;
        });
      }
      await copyBuffers(client, 'raw.coin_market_snapshots', columns, [Buffer.from(chunk)]);
    }
  } finally {
    client.release();
  }
}

/** Plain copies of the loaded rows under other storage settings, measured and dropped. */
async function variant(pool: pg.Pool, name: string, setup: string, select: string): Promise<Footprint> {
  await pool.query(`drop table if exists ${name}`);
  await pool.query(`create table ${name} (like raw.coin_market_snapshots including all)${setup}`);
  try {
    await pool.query(`insert into ${name} ${select}`);
    return await footprint(pool, name);
  } finally {
    await pool.query(`drop table ${name}`);
  }
}

export const storageBenchmark: Benchmark = {
  name: 'storage',
  description: `bytes per raw row (heap + TOAST + indexes) of ${COINS * STEPS} CoinGecko-shaped simulator records loaded through the load path, vs the same rows with the whole record as sent (the design before); replay equality and cost`,
  budgetMs: 600_000,
  async run(ctx) {
    const db = await ctx.database();
    const admin = benchPool(db.url, 3);
    ctx.defer(() => admin.end());
    const redis = new Redis(BENCH_REDIS_URL);
    ctx.defer(() => redis.disconnect());
    const prefix = ctx.prefix();
    const fixture = await snapshotFixture(COINS, STEPS, CHANGE_WINDOWS);
    const rows = fixture.rows;
    // Each body less its brackets and the commas between records.
    const recordBytes = fixture.bodies.flat().reduce((sum, body) => sum + Buffer.byteLength(body) - 2, 0) / rows - 1;
    ctx.log(`fixture: ${rows} records, ${Math.round(recordBytes)} bytes of JSON each`);
    await ensurePartitionsFor(admin, fixture.timestamps);
    const check = async (what: string) => {
      const n = await countRows(admin);
      if (n !== rows) throw new Error(`${what} left ${n} rows, expected ${rows}`);
    };

    // Reference: the whole record as sent beside the typed columns.
    await resetRawTable(admin);
    await loadWholeRecords(admin, fixture);
    await check('whole records');
    const whole = await footprint(admin);
    ctx.log(`whole record as sent: ${perRow(whole, rows)}`);
    // lz4 and the smallest toast_tuple_target: Postgres compresses only rows over ~2 kB, so nothing changes.
    const lz4 = await variant(
      admin,
      'raw.bench_whole_lz4',
      ' with (toast_tuple_target = 128)',
      'select * from raw.coin_market_snapshots',
    );
    ctx.log(`whole record, lz4, toast_tuple_target 128: ${perRow(lz4, rows)}`);
    let started = performance.now();
    await admin.query('select sum(length(s.record::text)) from raw.coin_market_snapshots s');
    const readWholeMs = performance.now() - started;

    // The design now: the project's load path (fetch-side preparation and key check, 2 loaders).
    await resetRawTable(admin);
    const refs = await planRuns(admin, fixture, 'storage');
    const jobs = await Promise.all(
      refs.map(async (ref) => {
        const data = { runId: ref.runId, batchNo: ref.batchNo, vsCurrency: ref.vsCurrency };
        const body = fixture.bodies[ref.step]![ref.batchNo]!;
        const { parked, checkFailed } = await encodeForParking(
          admin,
          data,
          JSON.parse(body) as unknown[],
          jsonArrayItems(body),
        );
        if (checkFailed) throw checkFailed;
        const key = `${prefix}:payload:storage-${ref.runId}-${ref.batchNo}`;
        await parkBatch(redis, key, parked, 600_000);
        return { data, key };
      }),
    );
    const loaders = benchPool(db.url, 2);
    try {
      await runLoaders(
        jobs,
        2,
        async ({ data, key }) => {
          const outcome = await loadParkedBatch({ pool: loaders, redis }, key, data);
          if (outcome.status !== 'loaded' || outcome.recordsRejected > 0)
            throw new Error(`batch ${data.runId}/${data.batchNo}: ${JSON.stringify(outcome)}`);
        },
        ctx.signal,
      );
    } finally {
      await loaders.end();
    }
    await check('load path');
    const residual = await footprint(admin);
    ctx.log(`typed columns + residual (load path): ${perRow(residual, rows)}`);
    // What the residual costs: the same rows without it (not replayable; the floor of this table's layout).
    const { rows: attributes } = await admin.query<{ name: string }>(
      `select attname as name from pg_attribute
        where attrelid = 'raw.coin_market_snapshots'::regclass and attnum > 0 and not attisdropped order by attnum`,
    );
    const names = attributes.map((c) => c.name);
    const floor = await variant(
      admin,
      'raw.bench_typed_only',
      '',
      `(${names.join(', ')}) select ${names.map((c) => (c === 'record_extra' ? 'null' : c)).join(', ')} from raw.coin_market_snapshots`,
    );
    ctx.log(`typed columns alone (not replayable): ${perRow(floor, rows)}`);

    // Replay: every row of the first step equal to its record as sent; the cost of replaying all rows.
    const sent = new Map<string, unknown>();
    for (const body of fixture.bodies[0]!)
      for (const item of JSON.parse(body) as { id: string }[]) sent.set(item.id, item);
    const { rows: replayed } = await admin.query<{ coin_id: string; record: string }>(
      `select coin_id, raw.replay_record(s)::text as record from raw.coin_market_snapshots s where run_id = $1`,
      [refs[0]!.runId],
    );
    let unequal = 0;
    for (const r of replayed) if (!sameJson(JSON.parse(r.record), sent.get(r.coin_id))) unequal++;
    if (replayed.length !== sent.size || unequal > 0)
      throw new Error(`replay: ${replayed.length} rows for ${sent.size} records, ${unequal} unequal`);
    ctx.log(`replay: the ${replayed.length} rows of the first tick equal their records as sent`);
    started = performance.now();
    await admin.query('select sum(length(raw.replay_record(s)::text)) from raw.coin_market_snapshots s');
    const replayMs = performance.now() - started;
    ctx.log(
      `replaying all ${rows} rows: ${Math.round(replayMs)} ms (${((replayMs * 1000) / rows).toFixed(1)} µs/row); reading the stored records: ${Math.round(readWholeMs)} ms`,
    );

    const bytes = (f: Footprint) => f.total / rows;
    const reference = `whole record as sent in \`record\` (${Math.round(recordBytes)} B of JSON)`;
    return [
      {
        metric: 'bytes per raw row: typed columns + residual (lower is better)',
        value: bytes(residual),
        unit: 'B',
        reference,
        referenceValue: bytes(whole),
      },
      {
        metric: 'bytes per raw row: typed columns + residual vs the target',
        value: bytes(residual),
        unit: 'B',
        reference: 'issue 18 target',
        referenceValue: TARGET_BYTES_PER_ROW,
      },
      {
        metric: 'bytes per raw row: whole record, lz4, toast_tuple_target 128',
        value: bytes(lz4),
        unit: 'B',
        reference,
        referenceValue: bytes(whole),
      },
      {
        metric: 'bytes per raw row: typed columns alone (not replayable)',
        value: bytes(floor),
        unit: 'B',
        reference,
        referenceValue: bytes(whole),
      },
      {
        metric: 'bytes per raw row: indexes (primary key, loaded_at)',
        value: residual.indexes / rows,
        unit: 'B',
        reference: 'the same, whole records',
        referenceValue: whole.indexes / rows,
      },
      {
        metric: `replay of ${rows} rows (raw.replay_record)`,
        value: replayMs,
        unit: 'ms',
        reference: 'reading the stored whole records',
        referenceValue: readWholeMs,
      },
    ] satisfies Measurement[];
  },
};

/** JSON values equal as parsed (numbers as doubles), key order aside. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

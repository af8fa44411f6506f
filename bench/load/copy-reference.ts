import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { validateMarketRecord } from '../../core/coingecko/market-record.js';
import { SNAPSHOT_COLUMNS } from '../../core/snapshots/raw-columns.js';
import { snapshotRow } from '../../core/snapshots/snapshot-row.js';
import { statCpuMs, waitedChildrenCpuMs } from './process-cpu.js';
import type { SnapshotFixture } from './snapshot-fixture.js';

function csvValue(value: unknown): string {
  if (value === null || value === undefined) return ''; // unquoted empty = NULL in COPY csv
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return typeof value === 'number' ? text : `"${text.replace(/"/g, '""')}"`;
}

/** Writes the fixture as the CSV `psql \copy` reads: the same columns and values the load path writes. */
export async function writeFixtureCsv(fixture: SnapshotFixture, file: string): Promise<number> {
  const out = createWriteStream(file);
  let rows = 0;
  for (const [step, bodies] of fixture.bodies.entries()) {
    for (const [batchNo, body] of bodies.entries()) {
      let chunk = '';
      for (const item of JSON.parse(body) as unknown[]) {
        const result = validateMarketRecord(item);
        if (!result.ok) continue;
        chunk += `${snapshotRow(result.record, { runId: `ref${step}`, batchNo, vsCurrency: 'usd' })
          .map(csvValue)
          .join(',')}\n`;
        rows++;
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

export interface PsqlCopyRun {
  readonly ms: number;
  /** CPU of psql itself (read, parse CSV lines, send). */
  readonly psqlCpuMs: number;
  /** CPU of the Postgres backend serving psql, from its start (connection setup included) to after the COPY. */
  readonly backendCpuMs: number;
}

/**
 * Times `psql \copy table (columns) from 'file' csv` — the physical reference for loading — and
 * the CPU psql and its backend spent (psql reads the backend's /proc entry through `\!` before it
 * disconnects, since the backend exits with the session).
 */
export async function psqlCopy(databaseUrl: string, table: string, file: string): Promise<PsqlCopyRun> {
  const script = [
    'select pg_backend_pid() as cdp_backend_pid \\gset',
    `\\copy ${table} (${SNAPSHOT_COLUMNS.join(', ')}) from '${file}' with (format csv)`,
    '\\setenv CDP_BACKEND_PID :cdp_backend_pid',
    '\\! cat /proc/$CDP_BACKEND_PID/stat',
    '',
  ].join('\n');
  const children0 = waitedChildrenCpuMs();
  const started = performance.now();
  const child = spawn('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(script);
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`psql \\copy exited ${code}: ${stderr.trim()}`);
  const stat = stdout.split('\n').find((line) => /^\d+ \(/.test(line));
  if (!stat) throw new Error(`psql did not print its backend's /proc stat: ${stdout.slice(0, 200)}`);
  return { ms, psqlCpuMs: waitedChildrenCpuMs() - children0, backendCpuMs: statCpuMs(stat, 14) };
}

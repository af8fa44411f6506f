import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { validateMarketRecord } from '../../core/coingecko/market-record.js';
import { SNAPSHOT_COLUMNS, snapshotRow } from '../../core/snapshots/snapshot-row.js';
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
  for (const [step, batches] of fixture.batches.entries()) {
    for (const [batchNo, items] of batches.entries()) {
      let chunk = '';
      for (const item of items) {
        const result = validateMarketRecord(item);
        if (!result.ok) continue;
        chunk += `${snapshotRow(result.record, { runId: `ref${step}`, batchNo, vsCurrency: 'usd' }).map(csvValue).join(',')}\n`;
        rows++;
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

/** Times `psql -c "\copy table (columns) from 'file' csv"` — the physical reference for loading. */
export async function psqlCopy(databaseUrl: string, table: string, file: string): Promise<number> {
  const command = `\\copy ${table} (${SNAPSHOT_COLUMNS.join(', ')}) from '${file}' with (format csv)`;
  const started = performance.now();
  const child = spawn('psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`psql \\copy exited ${code}: ${stderr.trim()}`);
  return ms;
}

import { writeFile } from 'node:fs/promises';
import { PipelineProcess } from '../pipeline-process.js';

export interface BaselineTiming {
  readonly rows: number;
  readonly fetchMs: number;
  readonly insertMs: number;
  readonly totalMs: number;
}

/** Runs bench/baseline-script.ts as its own process and returns the timings it prints. */
export async function runBaseline(options: {
  apiUrl: string;
  databaseUrl: string;
  idsFile: string;
  ids: readonly string[];
}): Promise<BaselineTiming> {
  await writeFile(options.idsFile, options.ids.join('\n'));
  const child = new PipelineProcess('baseline', {
    BASELINE_API_URL: options.apiUrl,
    BASELINE_DATABASE_URL: options.databaseUrl,
    BASELINE_IDS_FILE: options.idsFile,
  });
  const { code } = await child.exited;
  const line = child.lines.find((l) => l.startsWith('{"rows"'));
  if (code !== 0 || !line) throw new Error(`baseline script exited ${code}:\n${child.lines.slice(-10).join('\n')}`);
  return JSON.parse(line) as BaselineTiming;
}

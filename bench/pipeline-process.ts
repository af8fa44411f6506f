import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ENTRY_POINTS as PIPELINE_ENTRY_POINTS,
  NODE_FLAGS as PIPELINE_NODE_FLAGS,
} from '../scripts/lib/entry-points.js';

/** dist/bench/pipeline-process.js → the repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The pipeline's process kinds, plus the benchmarks' plain-script baseline. */
export const ENTRY_POINTS = {
  ...PIPELINE_ENTRY_POINTS,
  baseline: 'dist/bench/baseline-script.js',
} as const;
export type ProcessKind = keyof typeof ENTRY_POINTS;
/** Their node flags; the baseline script runs as such a script would, with V8's defaults. */
const NODE_FLAGS: Readonly<Record<ProcessKind, readonly string[]>> = { ...PIPELINE_NODE_FLAGS, baseline: [] };

/** A real process of one kind, its output lines kept for log checks. */
export class PipelineProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(
    readonly kind: ProcessKind,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [...NODE_FLAGS[kind], path.join(ROOT, ENTRY_POINTS[kind])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, ENV_FILE: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    const collect = (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.filter(Boolean));
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a JSON log line with this message (started processes log one when ready). */
  async waitForLog(message: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const needle = `"message":${JSON.stringify(message)}`;
    while (!this.lines.some((line) => line.includes(needle))) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`${this.kind} never logged "${message}"; output:\n${this.lines.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The `field` of the first JSON log line with this message, e.g. the dashboard's URL from 'dashboard listening'. */
  async logField(message: string, field: string, timeoutMs = 20_000): Promise<unknown> {
    await this.waitForLog(message, timeoutMs);
    const needle = `"message":${JSON.stringify(message)}`;
    return (JSON.parse(this.lines.find((line) => line.includes(needle))!) as Record<string, unknown>)[field];
  }

  /** SIGTERM (graceful), then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

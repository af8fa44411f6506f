import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ENTRY_POINTS, NODE_FLAGS } from '../../scripts/lib/entry-points.js';

/** Tests run from the repository root (jest's rootDir). */
const ROOT = process.cwd();

/** Entry points of the built process kinds (npm test builds dist/ first). */
export { ENTRY_POINTS };

/** A real pipeline process, with its JSON log lines collected for assertions. */
export class PipelineProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(kind: keyof typeof ENTRY_POINTS, env: Record<string, string>) {
    this.child = spawn(process.execPath, [...NODE_FLAGS[kind], path.join(ROOT, ENTRY_POINTS[kind])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, ENV_FILE: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString().split('\n').filter(Boolean));
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

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(message: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.logs().some((l) => l.message === message)) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`process never logged "${message}"; output:\n${this.lines.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

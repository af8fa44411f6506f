import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT } from '../pipeline-process.js';

const ENTRY_POINT = 'dist/dashboard/main.js';

/** The real dashboard process (built entry point), its output kept for the 'dashboard listening' line. */
export class DashboardProcess {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [path.join(ROOT, ENTRY_POINT)], {
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
    this.exited = once(this.child, 'exit');
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The URL from the 'dashboard listening' log line (DASHBOARD_PORT=0 picks a free port). */
  async url(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines) {
        if (!line.includes('"message":"dashboard listening"')) continue;
        const url = (JSON.parse(line) as { url?: unknown }).url;
        if (typeof url === 'string') return url;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`dashboard never logged "dashboard listening"; output:\n${this.lines.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (graceful), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

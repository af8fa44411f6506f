import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Target {
  readonly address: string;
  readonly kind: string;
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/**
 * A real Prometheus of the test's own: temp dir, free port on 127.0.0.1, 1 s scrapes. Targets come
 * from a file_sd file, so a test can replace a killed process with a new one on another port.
 */
export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly output: string[],
  ) {}

  static async start(targets: readonly Target[]): Promise<PrometheusServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-prometheus-'));
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}',
        'scrape_configs:',
        '  - job_name: cdp-test',
        '    file_sd_configs:',
        `      - files: ['${path.join(dir, 'targets.json')}']`,
        '        refresh_interval: 1s',
      ].join('\n'),
    );
    writeTargets(dir, targets);
    const output: string[] = [];
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, dir, child, output);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join('')}`);
      const ready = await fetch(`${server.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return server;
      if (Date.now() > deadline) throw new Error(`prometheus not ready: ${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  setTargets(targets: readonly Target[]): void {
    writeTargets(this.dir, targets);
  }

  /** Instant query; throws on a PromQL error. `time` in Unix seconds (default now). */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) });
    const response = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success') throw new Error(`PromQL error for ${expr}: ${body.error}`);
    const { resultType, result } = body.data!;
    if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    return (result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** The raw samples of a range-vector selector (`metric{...}[60s]`) at `time`: each series' scrape times and values. */
  async samples(
    selector: string,
    time?: number,
  ): Promise<Array<{ metric: Record<string, string>; points: Array<[number, number]> }>> {
    const params = new URLSearchParams({ query: selector, ...(time === undefined ? {} : { time: String(time) }) });
    const response = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    if (body.status !== 'success') throw new Error(`PromQL error for ${selector}: ${body.error}`);
    if (body.data!.resultType !== 'matrix') throw new Error(`not a range-vector selector: ${selector}`);
    return body.data!.result.map((r) => ({ metric: r.metric, points: r.values.map(([t, v]) => [t, Number(v)]) }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function writeTargets(dir: string, targets: readonly Target[]): void {
  const file = path.join(dir, 'targets.json');
  // Written whole, then renamed: Prometheus must never read a half-written file.
  writeFileSync(
    `${file}.tmp`,
    JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: { kind: t.kind } }))),
  );
  renameSync(`${file}.tmp`, file);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A range selector shrunk by `factor` ([5m] → [5s] at 60), to replay a rule's windows in seconds. */
export function compressRanges(expr: string, factor = 60): string {
  return expr.replace(/\[(\d+)([smh])\]/g, (_m, n: string, unit: string) => {
    const seconds = Number(n) * { s: 1, m: 60, h: 3600 }[unit as 's' | 'm' | 'h'];
    return `[${Math.max(3, Math.round(seconds / factor))}s]`;
  });
}

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../../core/config/index.js';
import type { Logger } from '../../../core/log/logger.js';
import { readArtifact } from './dbt-artifacts.js';
import { dbtEnv } from './dbt-env.js';
import type { NodeResult, TransformRunner, TransformRunOptions, TransformRunSummary } from './runner-types.js';
import { summarize } from './summarize.js';

export interface DbtRunnerOptions {
  readonly executable: string;
  readonly projectDir: string;
  readonly config: AppConfig;
  readonly vars: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
}

interface Exit {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs real dbt: `dbt source freshness`, then `dbt build`, with the project and profiles.yml from
 * dbt/, the connection in DBT_* variables, and a fresh target directory per run (artifacts are never
 * shared between runs or processes). Exit codes: 0 success, 1 handled failure (failing tests, model
 * errors: read from run_results.json), 2 crash (retryable).
 */
export class DbtRunner implements TransformRunner {
  readonly name = 'dbt' as const;

  constructor(private readonly options: DbtRunnerOptions) {}

  async run({ signal, log, fullRefresh = false, vars }: TransformRunOptions): Promise<TransformRunSummary> {
    const targetPath = mkdtempSync(join(tmpdir(), 'cdp-dbt-'));
    try {
      const common = [
        '--project-dir',
        this.options.projectDir,
        '--profiles-dir',
        this.options.projectDir,
        '--target-path',
        targetPath,
        '--vars',
        JSON.stringify({ ...this.options.vars, ...vars }),
      ];
      const nodes: NodeResult[] = [];
      // A stale source is recorded, not fatal (dbt exits 1 for it): the data tests decide.
      const freshness = await this.dbt(
        ['source', 'freshness', ...common, '--output', join(targetPath, 'sources.json')],
        signal,
        log,
      );
      nodes.push(...(readArtifact(join(targetPath, 'sources.json')) ?? []));
      if (freshness.code === 2)
        return summarize('dbt', nodes, {
          retryable: true,
          error: `dbt source freshness crashed (exit 2): ${tail(freshness.output)}`,
        });

      const build = await this.dbt(['build', ...common, ...(fullRefresh ? ['--full-refresh'] : [])], signal, log);
      const results = readArtifact(join(targetPath, 'run_results.json'));
      if (!results)
        return summarize('dbt', nodes, {
          retryable: build.code !== 1,
          error: `dbt build wrote no run_results.json (exit ${build.code}): ${tail(build.output)}`,
        });
      nodes.push(...results);
      if (build.code === 0) return summarize('dbt', nodes);
      const summary = summarize('dbt', nodes, { retryable: build.code === 2 });
      return summary.status === 'error'
        ? summary
        : summarize('dbt', nodes, {
            retryable: build.code === 2,
            error: `dbt build exited ${build.code}: ${tail(build.output)}`,
          });
    } finally {
      rmSync(targetPath, { recursive: true, force: true });
    }
  }

  private dbt(args: string[], signal: AbortSignal, log: Logger): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.executable, args, {
        cwd: this.options.projectDir,
        env: {
          ...(this.options.env ?? process.env),
          ...dbtEnv(this.options.config),
          DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
          DBT_USE_COLORS: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
      });
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-20_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', (code) => {
        log.debug('dbt exited', { args: args.slice(0, 2), code });
        resolve({ code, output });
      });
    });
  }
}

const tail = (output: string) => output.trim().split('\n').slice(-5).join(' | ');

import { once } from 'node:events';
import express from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { noStore } from './responses.js';
import { TimeoutError, withTimeout } from './timeout.js';

export type CheckName = 'postgres' | 'redis' | 'migrations';

/** One dependency check. `reason` is a short, secret-free phrase (never an error message, which may name hosts or URLs). */
export interface CheckResult {
  readonly ok: boolean;
  readonly durationMs: number;
  readonly reason?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<CheckName, CheckResult>>;
}

export interface ReadinessDeps {
  readonly pool: pg.Pool;
  readonly redis: Redis;
  /** Resolves true while a migration is pending (as core/db/data-source.ts `pendingMigrations`). */
  readonly pendingMigrations: () => Promise<boolean>;
  /** Per check; the checks run in parallel, so a probe answers within about this long. */
  readonly timeoutMs: number;
}

/** Postgres answers `select 1`, Redis answers PING, and no migration is pending. */
export async function checkReadiness(
  deps: ReadinessDeps,
): Promise<Readiness & { readonly errors: Partial<Record<CheckName, unknown>> }> {
  const errors: Partial<Record<CheckName, unknown>> = {};
  const run = async (name: CheckName, check: () => Promise<string | undefined>): Promise<CheckResult> => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const problem = await withTimeout(check(), deps.timeoutMs, name);
      return problem === undefined
        ? { ok: true, durationMs: elapsed() }
        : { ok: false, durationMs: elapsed(), reason: problem };
    } catch (error) {
      errors[name] = error;
      return { ok: false, durationMs: elapsed(), reason: safeReason(error) };
    }
  };
  const [postgres, redis, migrations] = await Promise.all([
    run('postgres', async () => {
      await deps.pool.query('select 1');
      return undefined;
    }),
    run('redis', async () => {
      // A fail-fast client refuses commands until it is ready: wait out a first connection in
      // progress (bounded by the timeout), but answer at once while it is reconnecting after a loss.
      if (deps.redis.status === 'connecting' || deps.redis.status === 'connect') {
        await once(deps.redis, 'ready', { signal: AbortSignal.timeout(deps.timeoutMs) });
      } else if (deps.redis.status !== 'ready') {
        return `not connected (${deps.redis.status})`;
      }
      const reply = await deps.redis.ping();
      return reply === 'PONG' ? undefined : 'unexpected reply to PING';
    }),
    run('migrations', async () => ((await deps.pendingMigrations()) ? 'migrations pending' : undefined)),
  ]);
  return { ready: postgres.ok && redis.ok && migrations.ok, checks: { postgres, redis, migrations }, errors };
}

/** Error codes (ECONNREFUSED, SQLSTATE 3D000, ...) say enough to act on and carry no secrets. */
function safeReason(error: unknown): string {
  if (error instanceof TimeoutError) return `timed out after ${error.timeoutMs}ms`;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{2,40}$/.test(code) ? `failed (${code})` : 'failed';
}

/**
 * /healthz (the process answers: liveness) and /readyz (its dependencies answer: readiness, 503 with
 * each check's secret-free reason otherwise; the full error goes to the log only).
 */
export function createHealthRouter(deps: ReadinessDeps & { readonly logger: Logger }): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(deps);
    for (const [check, error] of Object.entries(readiness.errors))
      deps.logger.warn('readiness check failed', { check, reason: errorMessage(error) });
    noStore(res)
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'unavailable', checks: readiness.checks });
  });
  return router;
}

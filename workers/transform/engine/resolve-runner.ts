import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AppConfig } from '../../../core/config/index.js';
import { PermanentError } from '../../../core/errors.js';
import { BundledRunner } from './bundled/bundled-runner.js';
import { DbtRunner } from './dbt-runner.js';
import { dbtVars } from './dbt-env.js';
import { findProjectDir } from './project-dir.js';
import type { TransformRunner } from './runner-types.js';

/** Absolute path of an executable named `command` on PATH, if any. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Picks the runner TRANSFORM_RUNNER asks for: dbt (must be on PATH), bundled (Node, no Python), or
 * auto (dbt when it is on PATH, else bundled). Resolved per job, so installing dbt needs no restart.
 */
export function resolveTransformRunner(config: AppConfig, env: NodeJS.ProcessEnv = process.env): TransformRunner {
  const choice = config.transform.runner;
  if (choice === 'none') {
    throw new PermanentError(
      'no transform runner configured (TRANSFORM_RUNNER=none): set TRANSFORM_RUNNER to auto, dbt or bundled',
    );
  }
  const projectDir = findProjectDir();
  const vars = dbtVars(config);
  const dbt = findOnPath('dbt', env.PATH);
  if (choice === 'dbt' && !dbt)
    throw new PermanentError(
      'TRANSFORM_RUNNER=dbt but no dbt executable is on PATH (install dbt-core and dbt-postgres, or use TRANSFORM_RUNNER=bundled)',
    );
  if (dbt && choice !== 'bundled') return new DbtRunner({ executable: dbt, projectDir, config, vars, env });
  return new BundledRunner({ projectDir, config, vars, env });
}

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dbt project ships next to the code: <package root>/dbt. This file runs from workers/transform/engine
 * (tests) or dist/workers/transform/engine (built), so walk up until dbt/dbt_project.yml appears.
 */
export function findProjectDir(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, 'dbt');
    if (existsSync(join(candidate, 'dbt_project.yml'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`no dbt/dbt_project.yml found above ${start}`);
  }
}

import { existsSync, readFileSync } from 'node:fs';
import type { NodeResult, NodeStatus } from './runner-types.js';

interface RunResultsEntry {
  unique_id: string;
  status: string;
  timing?: { name: string; started_at?: string; completed_at?: string }[];
  execution_time?: number;
  adapter_response?: { rows_affected?: number };
  message?: string | null;
  failures?: number | null;
}

const STATUSES = new Set<NodeStatus>(['success', 'error', 'skipped', 'pass', 'fail', 'warn', 'runtime error']);
const RESOURCE_TYPES = new Set(['model', 'test', 'source', 'seed', 'snapshot', 'operation', 'unit_test']);

function toNode(entry: RunResultsEntry): NodeResult {
  const [type = 'operation', , ...rest] = entry.unique_id.split('.');
  const resourceType = (RESOURCE_TYPES.has(type) ? type : 'operation') as NodeResult['resourceType'];
  // Generic test ids end in a hash (test.pkg.not_null_x_y.5a1b2c3d); source ids are source.pkg.src.table.
  const name =
    resourceType === 'source'
      ? rest.join('.')
      : resourceType === 'test' && rest.length > 1
        ? rest.slice(0, -1).join('.')
        : rest.join('.');
  const execute = entry.timing?.find((t) => t.name === 'execute') ?? entry.timing?.[0];
  const status = (STATUSES.has(entry.status as NodeStatus) ? entry.status : 'error') as NodeStatus;
  return {
    uniqueId: entry.unique_id,
    resourceType,
    name: name || entry.unique_id,
    status,
    startedAt: execute?.started_at ? new Date(execute.started_at) : null,
    completedAt: execute?.completed_at ? new Date(execute.completed_at) : null,
    executionTimeMs: Math.round((entry.execution_time ?? 0) * 1000),
    rowsAffected: entry.adapter_response?.rows_affected ?? null,
    failures: resourceType === 'test' ? (entry.failures ?? null) : null,
    message: entry.message ?? null,
  };
}

/** Nodes of target/run_results.json (dbt build) or target/sources.json (dbt source freshness). */
export function readArtifact(path: string): NodeResult[] | undefined {
  if (!existsSync(path)) return undefined;
  const artifact = JSON.parse(readFileSync(path, 'utf8')) as { results?: RunResultsEntry[] };
  return (artifact.results ?? []).map(toNode);
}

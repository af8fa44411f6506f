import type { NodeResult, TransformRunSummary } from './runner-types.js';

/** Counts of a run's nodes, as the runs table and the job's detail line show them. */
export function countNodes(nodes: readonly NodeResult[]) {
  const of = (type: string, ...statuses: string[]) =>
    nodes.filter((n) => n.resourceType === type && statuses.includes(n.status)).length;
  return {
    modelsBuilt: of('model', 'success'),
    modelsFailed: of('model', 'error'),
    testsPassed: of('test', 'pass'),
    testsWarned: of('test', 'warn'),
    testsFailed: of('test', 'fail', 'error'),
    skipped: nodes.filter((n) => n.status === 'skipped').length,
  };
}

/**
 * Builds the summary both runners return from their node results: the run fails when a model errors
 * or an error-severity test fails, and the reason names each of them (it becomes the job's reason).
 */
export function summarize(
  runner: 'dbt' | 'bundled',
  nodes: readonly NodeResult[],
  extra: { retryable?: boolean; error?: string } = {},
): TransformRunSummary {
  const counts = countNodes(nodes);
  const failedTests = nodes.filter((n) => n.resourceType === 'test' && (n.status === 'fail' || n.status === 'error'));
  const failedModels = nodes.filter(
    (n) => n.resourceType !== 'test' && n.resourceType !== 'source' && n.status === 'error',
  );
  const problems: string[] = [];
  if (failedTests.length > 0)
    problems.push(
      `failing tests: ${failedTests.map((t) => `${t.name}${t.failures ? ` (${t.failures} rows)` : ''}`).join(', ')}`,
    );
  if (failedModels.length > 0)
    problems.push(`models in error: ${failedModels.map((m) => `${m.name}: ${m.message ?? 'error'}`).join('; ')}`);
  if (extra.error) problems.push(extra.error);
  const warned = nodes.filter((n) => n.status === 'warn').map((n) => n.name);
  const detail =
    `${runner}: ${counts.modelsBuilt} models built, ${counts.testsPassed} tests passed, ${counts.testsWarned} warned, ` +
    `${counts.testsFailed} failed, ${counts.skipped} skipped` +
    (warned.length > 0 ? `; warnings: ${warned.join(', ')}` : '');
  return problems.length > 0
    ? {
        runner,
        status: 'error',
        nodes,
        detail,
        failureReason: `dbt build failed: ${problems.join('; ')}`,
        retryable: extra.retryable ?? false,
      }
    : { runner, status: 'success', nodes, detail };
}

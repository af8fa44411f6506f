import type { Job } from 'bullmq';
import type { Runtime } from '../../core/runtime.js';
import { jobIds } from '../../core/queues/registry.js';

/** When each stage of one tick ran, from BullMQ's own job timestamps (epoch ms, set by the workers). */
export interface TickTimeline {
  readonly runId: string;
  readonly batches: number;
  readonly tickAdded: number;
  readonly tickStarted: number;
  readonly tickFinished: number;
  readonly firstFetchStart: number;
  readonly lastFetchEnd: number;
  readonly firstLoadStart: number;
  readonly lastLoadEnd: number;
  readonly transformStarted: number;
  readonly transformSettled: number;
  readonly transformState: string;
}

const need = (job: Job | undefined, what: string): Job => {
  if (!job) throw new Error(`${what} is missing (removed early?)`);
  return job;
};

export async function tickTimeline(runtime: Runtime, runId: string): Promise<TickTimeline> {
  const tick = need(await runtime.queue('tick').getJob(jobIds.manualTick(runId)), `tick ${runId}`);
  const batches = (tick.returnvalue as { batches: number }).batches;
  const nos = Array.from({ length: batches }, (_, n) => n);
  const fetches = await Promise.all(
    nos.map(async (n) => need(await runtime.queue('fetch').getJob(jobIds.fetch(runId, n)), `fetch ${n}`)),
  );
  const loads = await Promise.all(
    nos.map(async (n) => need(await runtime.queue('load').getJob(jobIds.load(runId, n)), `load ${n}`)),
  );
  const transform = need(await runtime.queue('transform').getJob(jobIds.transform(runId)), 'transform');
  const failedLoads = (await Promise.all(loads.map((j) => j.getState()))).filter((s) => s !== 'completed').length;
  if (failedLoads > 0) throw new Error(`tick ${runId}: ${failedLoads} load jobs did not complete`);
  return {
    runId,
    batches,
    tickAdded: tick.timestamp,
    tickStarted: tick.processedOn!,
    tickFinished: tick.finishedOn!,
    firstFetchStart: Math.min(...fetches.map((j) => j.processedOn!)),
    lastFetchEnd: Math.max(...fetches.map((j) => j.finishedOn!)),
    firstLoadStart: Math.min(...loads.map((j) => j.processedOn!)),
    lastLoadEnd: Math.max(...loads.map((j) => j.finishedOn!)),
    transformStarted: transform.processedOn!,
    transformSettled: transform.finishedOn!,
    transformState: await transform.getState(),
  };
}

/** The stages reported, in order; they overlap (loads start while fetches run), so they do not add up. */
export const STAGES: readonly [string, (t: TickTimeline) => number][] = [
  ['plan (tick job processedOn→finishedOn)', (t) => t.tickFinished - t.tickStarted],
  ['fetch (first fetch start→last fetch end)', (t) => t.lastFetchEnd - t.firstFetchStart],
  ['load (first load start→last load end)', (t) => t.lastLoadEnd - t.firstLoadStart],
  ['transform wait (last load end→transform start)', (t) => t.transformStarted - t.lastLoadEnd],
  ['transform job (start→settled: the dbt run, bundled runner here)', (t) => t.transformSettled - t.transformStarted],
];

export const totalMs = (t: TickTimeline) => t.transformSettled - t.tickAdded;

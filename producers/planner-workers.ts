import type { Worker } from 'bullmq';
import { startWorker } from '../core/jobs/run-job.js';
import type { Runtime } from '../core/runtime.js';
import { tickHandler } from './tick/handle-tick.js';
import { universeHandler } from './universe/handle-universe.js';

/**
 * Planning runs in the scheduler process: a tick job only reads Postgres and adds jobs, so it needs
 * no process kind of its own. With several scheduler replicas, each tick is still planned once
 * (one scheduler slot → one job).
 */
export function startPlannerWorkers(runtime: Runtime): Worker[] {
  return [
    startWorker('tick', tickHandler(runtime), runtime, { concurrency: 2 }),
    startWorker('universe', universeHandler(runtime), runtime, { concurrency: 1 }),
  ];
}

import type { Worker } from 'bullmq';
import type { AppConfig } from '../../core/config/index.js';
import { closeWorker } from '../../core/jobs/close-worker.js';
import { rootLogger } from '../../core/log/logger.js';
import { Runtime } from '../../core/runtime.js';
import type { TransformRunner } from '../../workers/transform/engine/runner-types.js';
import { startPlannerWorkers } from '../../producers/planner-workers.js';
import { startFetchWorker } from '../../workers/fetch/fetch-worker.js';
import { startLoadWorker } from '../../workers/load/load-worker.js';
import { startTransformWorker } from '../../workers/transform/transform-worker.js';

export type WorkerKind = 'planner' | 'fetch' | 'load' | 'transform';

/**
 * The pipeline's workers in this process, built by the same factories the process entry points use.
 * Tests that need real process boundaries (SIGKILL, several processes) spawn dist/ entry points instead.
 */
export class InProcessPipeline {
  readonly runtime: Runtime;
  private readonly workers: Worker[] = [];

  constructor(readonly config: AppConfig) {
    this.runtime = new Runtime(config, rootLogger, 'test');
  }

  async start(
    kinds: readonly WorkerKind[] = ['planner', 'fetch', 'load', 'transform'],
    runner?: () => TransformRunner,
  ): Promise<this> {
    for (const kind of kinds) {
      if (kind === 'planner') this.workers.push(...startPlannerWorkers(this.runtime));
      if (kind === 'fetch') this.workers.push(startFetchWorker(this.runtime));
      if (kind === 'load') this.workers.push(startLoadWorker(this.runtime));
      if (kind === 'transform') this.workers.push(await startTransformWorker(this.runtime, runner));
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => closeWorker(w, 5000)));
    await this.runtime.close();
  }
}

/** Transform worker process: runs the dbt project once per tick (one run at a time cluster-wide). */
import { runWorkerProcess } from '../run-worker-process.js';
import { startTransformWorker } from './transform-worker.js';

await runWorkerProcess(
  'transform-worker',
  (runtime) => startTransformWorker(runtime),
  (config) => ({ runner: config.transform.runner }),
);

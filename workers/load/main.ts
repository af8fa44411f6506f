/** Load worker process: run N of these on any number of machines against one Redis and Postgres. */
import { runWorkerProcess } from '../run-worker-process.js';
import { startLoadWorker } from './load-worker.js';

await runWorkerProcess('load-worker', startLoadWorker, (config) => ({ concurrency: config.load.concurrency }));

/**
 * Adds one tick by hand and waits for it: `npm run tick` (the configured universe) or
 * `npm run tick -- --coins bitcoin,ethereum [--backfill]`. Needs the workers running (make demo).
 */
import { parseArgs } from 'node:util';
import { boot } from '../core/process/boot.js';
import { Runtime } from '../core/runtime.js';
import { enqueueTick } from '../producers/tick/enqueue-tick.js';
import { printRunLine, type RunLine } from './run-local/progress.js';

const { values } = parseArgs({
  options: {
    coins: { type: 'string' },
    backfill: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '300' },
  },
});
const { config, logger } = boot('tick-cli');
const runtime = new Runtime(config, logger, 'tick-cli');
const coinIds = values.coins
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const runId = await enqueueTick(runtime, { trigger: values.backfill ? 'backfill' : 'manual', coinIds });
process.stdout.write(`queued tick ${runId}${coinIds ? ` for ${coinIds.length} coins` : ''}\n`);
const deadline = Date.now() + Number(values.timeout) * 1000;
let exitCode = 1;
while (Date.now() < deadline) {
  const row = (
    await runtime.pool.query<RunLine>(
      'select * from pipeline.pipeline_runs where run_id = $1 and finished_at is not null',
      [runId],
    )
  ).rows[0];
  if (row) {
    process.stdout.write(`${printRunLine(row)}\n`);
    exitCode = row.status === 'loaded' ? 0 : 1;
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
if (exitCode === 1 && Date.now() >= deadline)
  process.stderr.write(`tick ${runId} did not finish within ${values.timeout}s: are the workers running?\n`);
await runtime.close();
process.exit(exitCode);

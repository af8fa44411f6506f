/** One finished run as the progress line needs it (a row of pipeline.pipeline_runs). */
export interface RunLine {
  run_id: string;
  trigger: string;
  status: string;
  batches_planned: number;
  batches_fetched: number;
  batches_loaded: number;
  batches_failed: number;
  rows_loaded: number;
  rows_duplicate: number;
  records_rejected: number;
  transform_status: string;
  started_at: Date;
  finished_at: Date | null;
}

/** `12:00:15 tick t1795… loaded  batches 60/60 fetched, 60 loaded, 0 failed  rows 15000 (+0 dup)  rejects 0  1.84s  transform queued` */
export function printRunLine(run: RunLine): string {
  const seconds = run.finished_at ? ((run.finished_at.getTime() - run.started_at.getTime()) / 1000).toFixed(2) : '?';
  const time = (run.finished_at ?? run.started_at).toISOString().slice(11, 19);
  return [
    `${time} tick ${run.run_id} ${run.status.padEnd(7)}`,
    `batches ${run.batches_fetched}/${run.batches_planned} fetched, ${run.batches_loaded} loaded, ${run.batches_failed} failed`,
    `rows ${run.rows_loaded} (+${run.rows_duplicate} dup)`,
    `rejects ${run.records_rejected}`,
    `${seconds}s`,
    `transform ${run.transform_status}`,
  ].join('  ');
}

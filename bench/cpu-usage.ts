import { readFileSync } from 'node:fs';

/**
 * CPU time spent while `work` ran: by the whole machine (from /proc/stat, so Postgres backends and
 * psql count) and by this Node process. Tells "CPU-bound on this box" from "waiting on something".
 */
export interface CpuSpent {
  readonly machineMs: number;
  readonly processMs: number;
  readonly wallMs: number;
  /** Cores the machine has; machineMs / wallMs / cores = how busy it was. */
  readonly cores: number;
}

function machineBusyMs(): { busy: number; cores: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const fields = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const busy = fields.reduce((s, v, i) => (i === 3 || i === 4 ? s : s + v), 0) - (fields[8] ?? 0) - (fields[9] ?? 0);
  return { busy: (busy * 1000) / 100, cores: lines.filter((l) => /^cpu\d+ /.test(l)).length }; // USER_HZ = 100
}

export async function measureCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuSpent }> {
  const m0 = machineBusyMs();
  const p0 = process.cpuUsage();
  const w0 = performance.now();
  const result = await work();
  const wallMs = performance.now() - w0;
  const p = process.cpuUsage(p0);
  const m1 = machineBusyMs();
  return {
    result,
    cpu: { machineMs: m1.busy - m0.busy, processMs: (p.user + p.system) / 1000, wallMs, cores: m1.cores },
  };
}

export const describeCpu = (c: CpuSpent) =>
  `machine CPU ${Math.round(c.machineMs)} ms (${Math.round((100 * c.machineMs) / c.wallMs / c.cores)}% of ${c.cores} cores), this process ${Math.round(c.processMs)} ms, wall ${Math.round(c.wallMs)} ms`;

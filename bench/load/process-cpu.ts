import { readFileSync } from 'node:fs';

/**
 * CPU time of other processes on this machine, from /proc (Linux, USER_HZ = 100, so 10 ms
 * resolution): the Postgres backends serving a benchmark's connections, and the children this
 * process has waited for (psql). The machine-wide figure in cpu-usage.ts includes other people's
 * work on a shared box; these do not.
 */
const TICK_MS = 10;

/** utime + stime of a process (ms); 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'), 14);
  } catch {
    return 0;
  }
}

/** CPU of this process's children that have exited and been waited for (cutime + cstime, ms). */
export function waitedChildrenCpuMs(): number {
  return statCpuMs(readFileSync('/proc/self/stat', 'utf8'), 16);
}

/** Fields `field` and `field + 1` of /proc/<pid>/stat (numbered from 1 as in proc(5): 14 utime, 16 cutime), in ms. */
export function statCpuMs(stat: string, field: number): number {
  // Field 2 is "(comm)" and may hold spaces, so count from after its closing parenthesis: field 3 first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[field - 3]) + Number(fields[field - 2])) * TICK_MS;
}

import { readFileSync } from 'node:fs';

/**
 * Samples each process's resident set every `everyMs` from /proc/<pid>/status. VmHWM is the kernel's
 * own peak, so a spike between two samples still counts.
 */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => readonly number[],
    everyMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    for (const pid of this.pids()) {
      let status: string;
      try {
        status = readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        continue; // exited
      }
      const kb = Math.max(
        ...['VmRSS', 'VmHWM'].map((field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)),
      );
      this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, kb));
    }
  }

  /** Peak resident set in MB (10^6 bytes; 0 if never sampled). */
  peakMB(pid: number): number {
    return ((this.peaks.get(pid) ?? 0) * 1024) / 1e6;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/**
 * The raw retention window (TRANSFORM_RAW_RETENTION_DAYS), one definition for the two places that
 * must agree on it: the transform's retention drops the daily partitions wholly before the cutoff, and
 * the load records a snapshot observed before the cutoff as stale instead of storing it (it would
 * create a partition that the next retention drops again, and come back on the next tick).
 */

const DAY_MS = 86_400_000;

/**
 * The first instant still inside the window: midnight UTC of today minus `retentionDays`, so that a
 * partition [day, day + 1) is aged out exactly when day + 1 <= cutoff. Undefined when retention is off (0).
 */
export function retentionCutoff(retentionDays: number, now: Date = new Date()): Date | undefined {
  if (retentionDays <= 0) return undefined;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - retentionDays * DAY_MS);
}

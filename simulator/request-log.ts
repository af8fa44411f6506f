/** Counters and a bounded log of API requests, for `GET /__sim/stats` and `/__sim/requests`. */

/** One served API request. */
export interface RequestLogEntry {
  /** When the request arrived (epoch ms). */
  t: number;
  /** Path below `/api/v3`, without the query string. */
  path: string;
  status: number;
  /** How many ids the request listed (`ids` of /coins/markets and /simple/price). */
  ids?: number;
}

/** Aggregate counts since start or the last reset. */
export interface SimulatorStats {
  requests: number;
  byStatus: Record<string, number>;
  byEndpoint: Record<string, number>;
  /** Requests rejected with 429 by the rate limiter (not injected 429 faults). */
  rateLimited: number;
  /** Requests answered with a 2xx status. */
  served: number;
}

const MAX_LOG_ENTRIES = 100_000;

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private counts: SimulatorStats = emptyStats();

  record(entry: RequestLogEntry, endpoint: string, rateLimited: boolean): void {
    this.entries.push(entry);
    // Trim in batches so the log stays amortised O(1) per request.
    if (this.entries.length > MAX_LOG_ENTRIES * 1.1) this.entries = this.entries.slice(-MAX_LOG_ENTRIES);
    const c = this.counts;
    c.requests++;
    c.byStatus[entry.status] = (c.byStatus[entry.status] ?? 0) + 1;
    c.byEndpoint[endpoint] = (c.byEndpoint[endpoint] ?? 0) + 1;
    if (rateLimited) c.rateLimited++;
    if (entry.status >= 200 && entry.status < 300) c.served++;
  }

  stats(): SimulatorStats {
    return structuredClone(this.counts);
  }

  /** Entries with `t >= sinceMs`, oldest first (at most the last 100k). */
  since(sinceMs = 0): RequestLogEntry[] {
    const from = this.entries.length - Math.min(this.entries.length, MAX_LOG_ENTRIES);
    const out: RequestLogEntry[] = [];
    for (let i = from; i < this.entries.length; i++)
      if (this.entries[i]!.t >= sinceMs) out.push({ ...this.entries[i]! });
    return out;
  }

  reset(): void {
    this.entries = [];
    this.counts = emptyStats();
  }
}

function emptyStats(): SimulatorStats {
  return { requests: 0, byStatus: {}, byEndpoint: {}, rateLimited: 0, served: 0 };
}

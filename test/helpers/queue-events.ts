import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** One entry of a BullMQ queue's event stream. */
export interface QueueEvent {
  /** The stream entry id: Redis orders entries as it applied the scripts that wrote them. */
  readonly id: string;
  /** Redis' clock when it wrote the entry (ms), from the id. */
  readonly at: number;
  readonly event: string;
  readonly jobId?: string;
  readonly prev?: string;
}

/**
 * Every event BullMQ wrote to the queue's stream (`<prefix>:<queue>:events`), in the order Redis
 * applied them: one order for every worker and process, whatever their clocks or their log lines say.
 */
export async function queueEvents(redis: Redis, queue: Queue): Promise<QueueEvent[]> {
  const entries = await redis.xrange(queue.keys.events!, '-', '+');
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { id, at: Number(id.split('-')[0]), event: fields.event!, jobId: fields.jobId, prev: fields.prev };
  });
}

/**
 * Whether the event takes its job out of 'active': completed or failed ("prev": "active"), handed
 * back to wait (a retry, a rate limit) or to waiting-children, delayed, or found stalled.
 */
export function leavesActive(event: QueueEvent): boolean {
  return event.prev === 'active' || event.event === 'delayed' || event.event === 'stalled';
}

/** The events replayed in order, each with the jobs active once it was applied. */
export function withActiveJobs(events: readonly QueueEvent[]): { event: QueueEvent; active: ReadonlySet<string> }[] {
  const active = new Set<string>();
  return events.map((event) => {
    if (event.jobId !== undefined) {
      if (event.event === 'active') active.add(event.jobId);
      else if (leavesActive(event)) active.delete(event.jobId);
    }
    return { event, active: new Set(active) };
  });
}

import type { Queue } from 'bullmq';
import type { AppConfig } from '../../core/config/index.js';
import { EVENTS_MAX_LEN } from '../../core/queues/job-options.js';
import { QUEUE_KEYS, QUEUES, type QueueKey } from '../../core/queues/registry.js';

/** The queues a caller gives createApp: a lookup by registry key, or exactly one queue per entry. */
export type QueueSource = readonly Queue[] | ((key: QueueKey) => Queue);

export interface RegistryQueue {
  readonly key: QueueKey;
  readonly queue: Queue;
}

/**
 * Resolves and checks one queue per registry entry, in registry order. A queue on another prefix or
 * with an untrimmed events stream would show Bull Board a different pipeline, or grow Redis without
 * bound, so either is refused at start-up.
 */
export function registryQueues(source: QueueSource, config: AppConfig): RegistryQueue[] {
  const given = typeof source === 'function' ? undefined : source;
  if (given) {
    const unknown = given.filter((q) => !QUEUE_KEYS.some((key) => QUEUES[key].name === q.name));
    if (unknown.length > 0)
      throw new Error(`createApp: queues not in the registry: ${unknown.map((q) => q.name).join(', ')}`);
  }
  return QUEUE_KEYS.map((key) => {
    const name = QUEUES[key].name;
    const queue = typeof source === 'function' ? source(key) : given!.find((q) => q.name === name);
    if (!queue || queue.name !== name)
      throw new Error(`createApp: no queue for registry entry "${key}" (name "${name}")`);
    if (queue.opts.prefix !== config.redis.prefix) {
      throw new Error(
        `createApp: queue "${name}" uses prefix "${queue.opts.prefix ?? 'bull'}", the pipeline uses "${config.redis.prefix}"`,
      );
    }
    if (queue.opts.streams?.events.maxLen !== EVENTS_MAX_LEN) {
      throw new Error(
        `createApp: queue "${name}" must trim its events stream to EVENTS_MAX_LEN (${EVENTS_MAX_LEN}) like every pipeline process`,
      );
    }
    return { key, queue };
  });
}

import { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { AppConfig } from './config/index.js';
import { createPool } from './db/pool.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log/logger.js';
import { EVENTS_MAX_LEN, jobOptions } from './queues/job-options.js';
import { createRedis } from './queues/redis.js';
import { QUEUES, type PayloadOf, type QueueKey, type ResultOf } from './queues/registry.js';

/** A typed BullMQ queue from the registry. */
export type TypedQueue<K extends QueueKey> = Queue<PayloadOf<K>, ResultOf<K>>;

/**
 * The shared connections of one process: one worker-role Redis client (reused by every Queue and
 * FlowProducer, duplicated by Workers for blocking reads), one pg pool, and the registry's queues,
 * created on first use with the same options everywhere.
 */
export class Runtime {
  readonly redis: Redis;
  readonly pool: pg.Pool;
  private readonly queues = new Map<QueueKey, Queue>();
  private flowProducer: FlowProducer | undefined;

  constructor(
    readonly config: AppConfig,
    readonly logger: Logger,
    readonly service: string,
  ) {
    this.redis = createRedis(config.redis.url, 'worker', `cdp:${service}`);
    this.redis.on('error', (error) => logger.warn('redis connection problem', { reason: errorMessage(error) }));
    this.pool = createPool(config, `cdp-${service}`);
  }

  queue<K extends QueueKey>(key: K): TypedQueue<K> {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new Queue(QUEUES[key].name, {
        connection: this.redis,
        prefix: this.config.redis.prefix,
        defaultJobOptions: jobOptions(key, this.config),
        streams: { events: { maxLen: EVENTS_MAX_LEN } },
      });
      queue.on('error', (error) =>
        this.logger.warn('queue error', { queue: QUEUES[key].name, reason: errorMessage(error) }),
      );
      this.queues.set(key, queue);
    }
    return queue as unknown as TypedQueue<K>;
  }

  get flows(): FlowProducer {
    if (!this.flowProducer) {
      this.flowProducer = new FlowProducer({ connection: this.redis, prefix: this.config.redis.prefix });
      this.flowProducer.on('error', (error) =>
        this.logger.warn('flow producer error', { reason: errorMessage(error) }),
      );
    }
    return this.flowProducer;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await this.flowProducer?.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
    await this.pool.end().catch(() => undefined);
  }
}

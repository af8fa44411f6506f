import { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix` (a BullMQ prefix of a test or benchmark run). Never FLUSHALL: the
 * Redis may be shared with other runs.
 */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

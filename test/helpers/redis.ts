import { randomBytes } from 'node:crypto';
import { deleteKeysUnder } from '../../scripts/lib/redis-prefix.js';
import { TEST_REDIS_URL } from './env.js';

/** A BullMQ prefix no other test uses. */
export function testPrefix(): string {
  return `cdp-test-${randomBytes(5).toString('hex')}`;
}

/** Deletes every key under `prefix` (never FLUSHALL: the Redis is shared). */
export function deletePrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  return deleteKeysUnder(url, prefix);
}

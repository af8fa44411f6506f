import type { Redis } from 'ioredis';
import { PermanentError } from '../errors.js';

/**
 * Fetched bodies wait in Redis for their load job instead of travelling as job return values, which
 * BullMQ stores three times over (job hash, parent's processed hash, events stream). The key expires
 * on its own if no load ever comes; a successful load deletes it.
 */
export function payloadKey(prefix: string, jobId: string): string {
  return `${prefix}:payload:${jobId}`;
}

export async function savePayload(redis: Redis, key: string, body: string | Buffer, ttlMs: number): Promise<void> {
  await redis.set(key, body, 'PX', ttlMs);
}

export async function readPayload(redis: Redis, key: string): Promise<string> {
  return (await readPayloadBytes(redis, key)).toString('utf8');
}

/** The payload as stored, undecoded (a prepared batch is streamed to COPY from these bytes). */
export async function readPayloadBytes(redis: Redis, key: string): Promise<Buffer> {
  const body = await redis.getBuffer(key);
  if (body === null) {
    throw new PermanentError(`fetched payload ${key} is gone (expired or lost with Redis); the batch must be fetched again`);
  }
  return body;
}

export async function deletePayload(redis: Redis, key: string): Promise<void> {
  await redis.del(key);
}

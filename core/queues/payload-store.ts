import type { Redis } from 'ioredis';
import { PermanentError } from '../errors.js';

/**
 * Where a fetch job's result waits in Redis for the job that consumes it, instead of travelling as
 * the job's return value, which BullMQ stores three times over (job hash, parent's processed hash,
 * events stream). A markets batch waits here as a parked batch for its load job (its format and its
 * park, read and drop: core/handoff/parked-batch.ts); the coin list and ranking pages wait as
 * received for the universe refresh, which reads and deletes them here. A key expires on its own
 * after PAYLOAD_TTL if nothing consumes it.
 *
 * "Payload" is the name of the key (`<prefix>:payload:<fetch job id>`) and of the fetch result's
 * field that carries it (FetchResult.payloadKey). Both are stored in Redis, where jobs and keys
 * written by the previous release still wait during a rolling upgrade, so both keep that name; it is
 * not a job's data (PayloadOf).
 */
export function payloadKey(prefix: string, jobId: string): string {
  return `${prefix}:payload:${jobId}`;
}

export async function savePayload(redis: Redis, key: string, body: string | Buffer, ttlMs: number): Promise<void> {
  await redis.set(key, body, 'PX', ttlMs);
}

export async function readPayload(redis: Redis, key: string): Promise<string> {
  const body = await readPayloadBytes(redis, key);
  if (body === undefined) {
    throw new PermanentError(
      `fetched payload ${key} is gone (expired or lost with Redis); the batch must be fetched again`,
    );
  }
  return body.toString('utf8');
}

/** The payload as stored, undecoded, or undefined once it is gone (expired, deleted, lost with Redis). */
export async function readPayloadBytes(redis: Redis, key: string): Promise<Buffer | undefined> {
  return (await redis.getBuffer(key)) ?? undefined;
}

export async function deletePayload(redis: Redis, key: string): Promise<void> {
  await redis.del(key);
}

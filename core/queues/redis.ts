import { Redis } from 'ioredis';

/**
 * Redis clients. Workers and schedulers wait through outages (maxRetriesPerRequest: null, as BullMQ
 * requires for blocking connections); request-serving code (the dashboard) fails fast instead.
 */
export function createRedis(url: string, role: 'worker' | 'fail-fast', name?: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    // Reconnect quickly at first, then every 2 s at most: Redis restarts are short.
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    lazyConnect: false,
  });
}

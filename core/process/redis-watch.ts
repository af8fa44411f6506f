import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';

/**
 * Says in the logs when Redis stops answering and when it is back. A stalled Redis (hung server,
 * black-holed network) raises no error on its own: commands just wait, and so would the operator.
 */
export function watchRedis(
  redis: Redis,
  logger: Logger,
  options: { everyMs?: number; timeoutMs?: number } = {},
): () => void {
  const { everyMs = 5000, timeoutMs = 2000 } = options;
  let down = false;
  let since = 0;
  const check = async () => {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!answered && !down) {
      down = true;
      since = Date.now();
      logger.warn('redis is not answering; jobs wait until it is back', { timeoutMs });
    } else if (answered && down) {
      down = false;
      logger.info('redis is answering again', { downForMs: Date.now() - since });
    }
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void check().finally(() => {
      running = false;
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/// <reference lib="dom" />
/// <reference lib="dom.iterable" />

/**
 * The pages' live updates (/api/v1/events), shared by every tab of this origin. Browsers keep at most
 * six HTTP/1.1 connections per host, and an event stream holds one for as long as the page is open:
 * with one stream per tab, a seventh tab never got a connection to load over. So one SharedWorker
 * (live-worker.ts) keeps the only stream and relays it to every tab; where SharedWorker does not
 * exist (Chrome on Android) or fails to start, the page opens its own EventSource as before.
 *
 * Either way the result dispatches what an EventSource does: `open`, `error`, and `transform` as a
 * MessageEvent whose data is the event's JSON text.
 */
export const EVENTS_URL = '/api/v1/events';
export const LIVE_WORKER_URL = '/assets/js/live-worker.js';

/** Messages from the worker to a tab. */
export type LiveMessage = { readonly type: 'open' | 'error' } | { readonly type: 'transform'; readonly data: string };

export function connectLive(): EventTarget {
  if (typeof SharedWorker !== 'function') return new EventSource(EVENTS_URL);
  const target = new EventTarget();
  let fallback: EventSource | undefined;
  const useOwnStream = () => {
    if (fallback) return;
    fallback = new EventSource(EVENTS_URL);
    for (const type of ['open', 'error', 'transform']) {
      fallback.addEventListener(type, (event) =>
        target.dispatchEvent(
          type === 'transform'
            ? new MessageEvent('transform', { data: (event as MessageEvent<string>).data })
            : new Event(type),
        ),
      );
    }
  };
  try {
    const worker = new SharedWorker(LIVE_WORKER_URL, { type: 'module', name: 'cdp-live' });
    worker.addEventListener('error', useOwnStream);
    worker.port.addEventListener('message', (event: MessageEvent<LiveMessage>) => {
      if (fallback) return;
      const message = event.data;
      target.dispatchEvent(
        message.type === 'transform' ? new MessageEvent('transform', { data: message.data }) : new Event(message.type),
      );
    });
    worker.port.start();
    addEventListener('pagehide', () => worker.port.postMessage('close'));
  } catch {
    useOwnStream();
  }
  return target;
}

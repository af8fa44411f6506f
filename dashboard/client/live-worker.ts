/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { LiveMessage } from './live-connection.js';

/**
 * The SharedWorker behind live-connection.ts: the one event stream every tab of this origin shares.
 * Each tab that connects is told at once whether the stream is open and the newest transform event
 * (as a fresh EventSource would), then every event as it comes. The stream reconnects by itself
 * (EventSource). Typed with the DOM lib (the client's), so the worker scope is declared by hand.
 */
const scope = globalThis as unknown as { onconnect: ((event: MessageEvent) => void) | null };

const ports = new Set<MessagePort>();
let open = false;
let latest: LiveMessage | undefined;

const broadcast = (message: LiveMessage) => {
  for (const port of ports) port.postMessage(message);
};

const source = new EventSource('/api/v1/events');
source.addEventListener('open', () => {
  open = true;
  broadcast({ type: 'open' });
});
source.addEventListener('error', () => {
  open = false;
  broadcast({ type: 'error' });
});
source.addEventListener('transform', (event) => {
  latest = { type: 'transform', data: (event as MessageEvent<string>).data };
  broadcast(latest);
});

scope.onconnect = (event) => {
  const port = event.ports[0]!;
  ports.add(port);
  // A closed tab's port is never announced: posting to it is a no-op, and it is dropped when the
  // tab says goodbye (pagehide, see live-connection.ts) where the browser lets it.
  port.addEventListener('message', (message: MessageEvent<unknown>) => {
    if (message.data === 'close') ports.delete(port);
  });
  port.start();
  if (open) port.postMessage({ type: 'open' } satisfies LiveMessage);
  if (latest) port.postMessage(latest);
};

/** Shared helpers for the simulator specs: a pinned clock and small fetch wrappers. */

/** 2025-03-14T12:00:05Z: mid-window and mid-step for the step and window lengths the specs use. */
export const PINNED_NOW = Date.UTC(2025, 2, 14, 12, 0, 5);

/** A clock the test moves by hand, so step and rate-window boundaries cannot make a spec flaky. */
export function manualClock(start = PINNED_NOW) {
  let now = start;
  return {
    clock: () => now,
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export interface Fetched {
  status: number;
  headers: Headers;
  body: string;
}

export async function get(url: string, init?: RequestInit): Promise<Fetched> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

export async function getJson<T = unknown>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; json: T }> {
  const res = await get(url, init);
  return { status: res.status, headers: res.headers, json: JSON.parse(res.body) as T };
}

/** A JSON POST to the control API. */
export async function post(url: string, body?: unknown): Promise<Fetched> {
  return get(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Base URL of the control API from an API base URL. */
export function controlUrl(apiUrl: string): string {
  return apiUrl.replace(/\/api\/v3$/, '/__sim');
}

/** One-shot deterministic faults for tests (`failNext`). */

/** The kinds of one-shot fault `failNext` can inject. */
export const FAIL_NEXT_KINDS = ['503', '500', 'html', 'timeout', 'truncated', '429', 'throttled-text'] as const;
export type FailNextKind = (typeof FAIL_NEXT_KINDS)[number];

/** One entry of the `failNext` queue: the next `count` matching API requests get `kind`. */
export interface FailNextFault {
  count: number;
  kind: FailNextKind;
  /** `retry-after` seconds to send with 429/503 faults. */
  retryAfterSec?: number;
  /** Only requests whose path (below `/api/v3`) starts with this; otherwise any API path but `/ping`. */
  path?: string;
}

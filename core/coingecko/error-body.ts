/**
 * CoinGecko answers errors in several envelopes (reference §1.2): {status:{error_code,error_message}},
 * {error:{status:{...}}}, {error:"..."}, and {error_code, status:{error_message}}. This pulls a
 * readable message and code out of any of them, or a cleaned snippet of a non-JSON body.
 */
export function describeErrorBody(body: string): { code?: number; message: string } {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const nested = (parsed.error as { status?: Record<string, unknown> } | undefined)?.status;
    const status = (parsed.status ?? nested) as Record<string, unknown> | undefined;
    const code = status?.error_code ?? parsed.error_code;
    const message =
      status?.error_message ?? (typeof parsed.error === 'string' ? parsed.error : undefined) ?? parsed.message;
    if (typeof message === 'string') return { code: typeof code === 'number' ? code : undefined, message };
  } catch {
    // not JSON: fall through to the snippet
  }
  return { message: bodySnippet(body) };
}

/** First bytes of a body, control characters flattened, for error reasons (e.g. a Cloudflare HTML page). */
export function bodySnippet(body: string, max = 160): string {
  const flat = body
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || '(empty body)';
}

/**
 * How long CoinGecko asks us to wait after a 429: `Retry-After` (seconds or HTTP date), else the
 * `x-ratelimit-reset` minute boundary (`2025-07-25 14:54:00 +0000`), else undefined.
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): number | undefined {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const retryAfter = header('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = header('x-ratelimit-reset')?.trim();
  if (reset) {
    const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/.exec(reset);
    const at = match ? Date.parse(`${match[1]}T${match[2]}${match[3]}:${match[4]}`) : Number.NaN;
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return undefined;
}

/**
 * Response values and the exact bodies CoinGecko (and its Cloudflare edge) sends, per the
 * reference's §1.2, §2.2 and §5.
 */
import { toJson } from './json.js';

/** A response before it is written, so faults and latency can be applied uniformly. */
export interface ApiResponse {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html; charset=UTF-8';

export function json(status: number, value: unknown): ApiResponse {
  return { status, body: toJson(value), contentType: JSON_TYPE };
}

export function html(status: number, body: string): ApiResponse {
  return { status, body, contentType: HTML_TYPE };
}

export function text(status: number, body: string): ApiResponse {
  return { status, body, contentType: 'text/plain; charset=utf-8' };
}

/** `{"error":"..."}`: CoinGecko's envelope for 400 and 404. */
export function errorMessage(status: number, message: string): ApiResponse {
  return json(status, { error: message });
}

export const RATE_LIMIT_MESSAGE =
  "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.";

export const rateLimited = (): ApiResponse =>
  json(429, { status: { error_code: 429, error_message: RATE_LIMIT_MESSAGE } });

export const keyMissing = (): ApiResponse =>
  json(401, {
    status: {
      error_code: 10002,
      error_message: "API Key Missing. Please make sure you're using the right authentication method.",
    },
  });

export const proKeyOnDemoHost = (): ApiResponse =>
  json(400, {
    status: {
      error_code: 10010,
      error_message:
        'If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com',
    },
  });

/** The 10011 capture puts `error_code` at the top level, beside a `+00:00` timestamp. */
export const demoKeyOnProHost = (nowMs: number): ApiResponse =>
  json(400, {
    timestamp: errorTimestamp(nowMs),
    error_code: 10011,
    status: {
      error_message:
        'If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com and replace x-cg-pro-api-key with x-cg-demo-api-key. See https://docs.coingecko.com/docs/authentication',
    },
  });

/** 10012 is wrapped in an extra `error` object. */
export const historyLimit = (nowMs: number): ApiResponse =>
  json(401, {
    error: {
      status: {
        timestamp: errorTimestamp(nowMs),
        error_code: 10012,
        error_message:
          'Your request exceeds the allowed time range. Public API users are limited to querying historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: https://www.coingecko.com/en/api/pricing. ',
      },
    },
  });

/** Error bodies carry ISO-8601 with a `+00:00` offset rather than `Z`. */
function errorTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** A Cloudflare-style HTML error page, as seen on 5xx and some 429s. */
export function cloudflarePage(status: number): ApiResponse {
  const titles: Record<number, string> = {
    429: 'Too Many Requests',
    500: 'Internal server error',
    502: 'Bad gateway',
    503: 'Service unavailable',
    504: 'Gateway time-out',
  };
  const title = titles[status] ?? 'Error';
  return html(
    status,
    `<!DOCTYPE html>\n<html lang="en-US">\n<head><title>api.coingecko.com | ${status}: ${title}</title>` +
      `<meta charset="UTF-8" /></head>\n<body><div id="cf-wrapper"><div id="cf-error-details">` +
      `<h1><span>${title}</span> <span>Error code ${status}</span></h1>` +
      `<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a> for more information.</p>` +
      `<span>Cloudflare Ray ID: <strong>8a1b2c3d4e5f6a7b</strong></span></div></div></body>\n</html>\n`,
  );
}

/** A 200 whose body is an HTML challenge page instead of JSON. */
export const malformedPage = (): ApiResponse =>
  html(
    200,
    '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing api.coingecko.com.</p></body></html>\n',
  );

export const uriTooLong = (): ApiResponse =>
  html(
    414,
    '<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n<center><h1>414 Request-URI Too Large</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n',
  );

/** Cuts a body in the middle so it no longer parses. */
export function truncate(response: ApiResponse): ApiResponse {
  const cut = Math.max(1, Math.floor(response.body.length / 2));
  return { ...response, body: response.body.slice(0, Math.min(cut, response.body.length - 1)) };
}

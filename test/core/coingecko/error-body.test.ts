import { bodySnippet, describeErrorBody, retryAfterMs } from '../../../core/coingecko/error-body.js';

describe(describeErrorBody.name, () => {
  // Real bodies from shared/reference/coingecko-api.md §1.2, §2.2 and §5.
  it.each([
    [
      'status envelope (invalid demo key, 401)',
      `{"status":{"error_code":10002,"error_message":"API Key Missing. Please make sure you're using the right authentication method."}}`,
      { code: 10002, message: "API Key Missing. Please make sure you're using the right authentication method." },
    ],
    [
      'status envelope (429)',
      '{"status":{"error_code":429,"error_message":"You\'ve exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits."}}',
      {
        code: 429,
        message:
          "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
      },
    ],
    [
      'error.status envelope (history beyond 365 days, 401)',
      '{"error":{"status":{"timestamp":"2026-10-07T13:32:10.955+00:00","error_code":10012,"error_message":"Your request exceeds the allowed time range. Public API users are limited to querying historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: https://www.coingecko.com/en/api/pricing. "}}}',
      {
        code: 10012,
        message:
          'Your request exceeds the allowed time range. Public API users are limited to querying historical data within the past 365 days. Upgrade to a paid plan to enjoy full historical data access: https://www.coingecko.com/en/api/pricing. ',
      },
    ],
    [
      'error string envelope (400)',
      '{"error":"invalid vs_currency"}',
      { code: undefined, message: 'invalid vs_currency' },
    ],
    [
      'top-level error_code envelope (demo key on the pro host, 400)',
      '{"timestamp":"2025-09-01T13:07:05.880+00:00","error_code":10011,"status":{"error_message":"If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com ..."}}',
      {
        code: 10011,
        message:
          'If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com ...',
      },
    ],
    [
      'error_code with message and no status wrapper (10005)',
      '{"error_code":10005,"message":"This request is limited to PRO API subscribers."}',
      { code: 10005, message: 'This request is limited to PRO API subscribers.' },
    ],
  ])('reads the %s', (_what, body, expected) => {
    const described = describeErrorBody(body);
    expect(described).toEqual(expected);
    expect(described.code).toBe(expected.code);
  });

  it('turns a Cloudflare HTML page into a flattened, truncated snippet', () => {
    const html =
      '<!DOCTYPE html>\n<html lang="en-US">\n\t<head>\n\t\t<title>Access denied | api.coingecko.com used Cloudflare to restrict access</title>\r\n' +
      `  </head>\n<body>${'<p>Error 1020 — Access denied</p>\n'.repeat(20)}</body></html>`;
    const { code, message } = describeErrorBody(html);
    expect(code).toBeUndefined();
    expect(
      message.startsWith(
        '<!DOCTYPE html> <html lang="en-US"> <head> <title>Access denied | api.coingecko.com used Cloudflare',
      ),
    ).toBe(true);
    expect(message).not.toMatch(/[\n\r\t]| {2}/);
    expect(message).toHaveLength(161);
    expect(message.endsWith('…')).toBe(true);
  });

  it.each([
    ['a plain-text throttle', 'Throttled\n', 'Throttled'],
    ['an empty body', '', '(empty body)'],
    ['JSON without a message', '{"foo":1}', '{"foo":1}'],
    ['a JSON array', '[]', '[]'],
    ['JSON null', 'null', 'null'],
  ])('falls back to the body for %s', (_what, body, message) => {
    expect(describeErrorBody(body)).toEqual({ message });
  });
});

describe(bodySnippet.name, () => {
  it('replaces non-printable and non-ASCII characters and honours max', () => {
    expect(bodySnippet('caf\u00e9\u0000 ok')).toBe('caf?? ok');
    expect(bodySnippet('abcdefghij', 4)).toBe('abcd…');
    expect(bodySnippet('abcd', 4)).toBe('abcd');
  });
});

describe(retryAfterMs.name, () => {
  const now = Date.UTC(2025, 6, 25, 14, 53, 30);

  it.each<[string, Record<string, string | string[] | undefined>, number | undefined]>([
    ['retry-after in seconds', { 'retry-after': '119' }, 119_000],
    ['fractional retry-after seconds', { 'retry-after': '1.5' }, 1500],
    ['retry-after 0', { 'retry-after': '0' }, 0],
    ['retry-after as an HTTP-date', { 'retry-after': 'Fri, 25 Jul 2025 14:54:00 GMT' }, 30_000],
    ['an HTTP-date in the past', { 'retry-after': 'Fri, 25 Jul 2025 14:50:00 GMT' }, 0],
    ['x-ratelimit-reset', { 'x-ratelimit-reset': '2025-07-25 14:54:00 +0000' }, 30_000],
    ['x-ratelimit-reset with an offset', { 'x-ratelimit-reset': '2025-07-25 16:55:00 +0200' }, 90_000],
    ['x-ratelimit-reset in the past', { 'x-ratelimit-reset': '2025-07-25 14:53:00 +0000' }, 0],
    [
      'retry-after before x-ratelimit-reset',
      { 'retry-after': '5', 'x-ratelimit-reset': '2025-07-25 14:54:00 +0000' },
      5000,
    ],
    [
      'x-ratelimit-reset when retry-after is garbage',
      { 'retry-after': 'soon', 'x-ratelimit-reset': '2025-07-25 14:54:00 +0000' },
      30_000,
    ],
    ['the first of repeated headers', { 'retry-after': ['7', '60'] }, 7000],
    ['an unreadable x-ratelimit-reset', { 'x-ratelimit-reset': '1753455240' }, undefined],
    ['no header', {}, undefined],
    ['a blank retry-after', { 'retry-after': '  ' }, undefined],
  ])('reads %s', (_what, headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
  });
});

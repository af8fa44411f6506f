import { DAY_MS } from '../../core/history/plan-history.js';

/** What `npm run backfill` was asked for, checked whole before any connection or call. */
export interface BackfillArgs {
  readonly fromMs: number;
  readonly toMs: number;
  /** Explicit coin ids, or the top N by market cap, or (neither) the tracked coins. */
  readonly coins: { readonly ids: readonly string[] } | { readonly top: number } | { readonly tracked: true };
  readonly detach: boolean;
  /** Seconds to wait for the run before giving up (the work goes on in the workers). */
  readonly timeoutS: number;
}

export class BackfillArgsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `backfill: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the arguments:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'BackfillArgsError';
  }
}

export const BACKFILL_USAGE =
  'usage: npm run backfill -- (--days N | --from ISO [--to ISO]) [--ids a,b,c | --top N] [--detach] [--timeout SECONDS]';

const COIN_ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
/**
 * A range may not start later than this before the plan's limit ends: the limit is counted from the
 * moment CoinGecko answers, which is after the moment the range was planned.
 */
export const HISTORY_LIMIT_MARGIN_MS = 60 * 60 * 1000;

/**
 * Parses and checks the arguments; every problem at once, in one BackfillArgsError. `historyDays`
 * is the plan's reach (undefined: no limit), `now` the clock.
 */
export function parseBackfillArgs(
  argv: readonly string[],
  context: { readonly plan: string; readonly historyDays: number | undefined; readonly now: number },
): BackfillArgs {
  const problems: string[] = [];
  const values = readOptions(argv, problems);
  const str = (name: string) => values[name] as string | undefined;

  const integer = (name: string, min: number, max: number): number | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      problems.push(`--${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      return undefined;
    }
    return Number(raw);
  };
  const instant = (name: string): number | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    const text = raw.trim().replace(' ', 'T');
    // A date alone is midnight UTC, a time without an offset is UTC: the pipeline's clock is UTC.
    const zoned = /^\d{4}-\d{2}-\d{2}$/.test(text)
      ? `${text}T00:00:00Z`
      : /(Z|[+-]\d{2}:?\d{2})$/.test(text)
        ? text
        : `${text}Z`;
    const ms = ISO.test(raw.trim()) && isCalendarDate(text) ? Date.parse(zoned) : NaN;
    if (Number.isNaN(ms)) {
      problems.push(
        `--${name} ${JSON.stringify(raw)}: expected an ISO date or time, e.g. 2026-11-01 or 2026-11-01T12:00Z`,
      );
      return undefined;
    }
    return ms;
  };

  const days = integer('days', 1, 100_000);
  const fromArg = instant('from');
  const toArg = instant('to');
  const top = integer('top', 1, 100_000);
  const timeoutS = integer('timeout', 1, 7 * 24 * 3600) ?? 24 * 3600;

  if (str('days') !== undefined && str('from') !== undefined) problems.push('give --days or --from, not both');
  if (str('days') === undefined && str('from') === undefined)
    problems.push(`give --days N or --from ISO. ${BACKFILL_USAGE}`);
  if (str('days') !== undefined && str('to') !== undefined)
    problems.push('--to goes with --from (--days counts back from now)');

  let ids: string[] | undefined;
  if (str('ids') !== undefined) {
    const given = str('ids')!
      .split(',')
      .map((s) => s.trim());
    const bad = given.filter((id) => !COIN_ID.test(id));
    if (given.every((id) => id === ''))
      problems.push('--ids is empty: expected a comma-separated list of CoinGecko coin ids');
    else if (bad.length > 0)
      problems.push(
        `--ids: not CoinGecko coin ids (lowercase letters, digits, '.', '_', '-'): ${bad.map((b) => JSON.stringify(b)).join(', ')}`,
      );
    ids = [...new Set(given)];
  }
  if (ids !== undefined && str('top') !== undefined) problems.push('give --ids or --top, not both');

  const toMs = toArg ?? context.now;
  const fromMs = days !== undefined ? toMs - days * DAY_MS : fromArg;
  if (fromMs !== undefined && toArg !== undefined && fromArg !== undefined && fromMs >= toMs)
    problems.push(`--from ${str('from')} is not before --to ${str('to')}`);
  if (toArg !== undefined && toArg > context.now + 60_000) problems.push(`--to ${str('to')} is in the future`);
  if (fromArg !== undefined && fromArg >= context.now) problems.push(`--from ${str('from')} is not in the past`);
  if (fromMs !== undefined && context.historyDays !== undefined) {
    const earliest = context.now - context.historyDays * DAY_MS + HISTORY_LIMIT_MARGIN_MS;
    if (fromMs < earliest) {
      const what = days !== undefined ? `--days ${days}` : `--from ${str('from')}`;
      problems.push(
        `${what} reaches past the ${context.plan} plan's history limit: CoinGecko serves only the past ${context.historyDays} days on it ` +
          `(older ranges get HTTP 401, error 10012); the earliest start now is ${new Date(earliest).toISOString()} ` +
          `(--days ${context.historyDays - 1} at most), or use COINGECKO_PLAN=pro`,
      );
    }
  }
  if (problems.length > 0) throw new BackfillArgsError(problems);
  return {
    fromMs: fromMs!,
    toMs,
    coins: ids !== undefined ? { ids } : top !== undefined ? { top } : { tracked: true },
    detach: values.detach === true,
    timeoutS,
  };
}

/**
 * Whether the text's YYYY-MM-DD is a day of the calendar: Date.parse rolls 2026-02-30 over to
 * March 2nd instead of refusing it, and a backfill must not quietly start on another day.
 */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const STRING_OPTIONS = new Set(['days', 'from', 'to', 'ids', 'top', 'timeout']);
const BOOLEAN_OPTIONS = new Set(['detach']);

/**
 * `--name value` and `--name=value`, by hand rather than util.parseArgs: that one stops at the first
 * problem, and takes `--days -1` for two options; here a string option takes the next argument
 * whatever it looks like, and every problem is recorded.
 */
function readOptions(argv: readonly string[], problems: string[]): Record<string, string | boolean | undefined> {
  const values: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}. ${BACKFILL_USAGE}`);
      continue;
    }
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    if (values[name] !== undefined) problems.push(`--${name} is given more than once`);
    if (BOOLEAN_OPTIONS.has(name)) {
      if (inline !== undefined) problems.push(`--${name} takes no value`);
      values[name] = true;
    } else if (STRING_OPTIONS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) problems.push(`--${name} needs a value`);
      else values[name] = value;
    } else {
      problems.push(`unknown option --${name}. ${BACKFILL_USAGE}`);
    }
  }
  return values;
}

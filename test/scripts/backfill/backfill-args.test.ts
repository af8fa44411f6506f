import { DAY_MS } from '../../../core/history/plan-history.js';
import {
  BackfillArgsError,
  HISTORY_LIMIT_MARGIN_MS,
  parseBackfillArgs,
} from '../../../scripts/backfill/backfill-args.js';

const NOW = Date.UTC(2026, 11, 7, 12);
const DEMO = { plan: 'demo', historyDays: 365, now: NOW };
const PRO = { plan: 'pro', historyDays: undefined, now: NOW };

/** The problems parseBackfillArgs lists for `argv` (it must throw). */
function problems(argv: string[], context = DEMO): readonly string[] {
  try {
    parseBackfillArgs(argv, context);
  } catch (error) {
    if (error instanceof BackfillArgsError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe(parseBackfillArgs.name, () => {
  describe('accepts', () => {
    it('--days N: the N days up to now, for the tracked coins, waiting for the run', () => {
      expect(parseBackfillArgs(['--days', '30'], DEMO)).toEqual({
        fromMs: NOW - 30 * DAY_MS,
        toMs: NOW,
        coins: { tracked: true },
        detach: false,
        timeoutS: 24 * 3600,
      });
    });

    it('--name=value as well as --name value', () => {
      expect(parseBackfillArgs(['--days=7', '--top=50', '--timeout=600', '--detach'], DEMO)).toMatchObject({
        fromMs: NOW - 7 * DAY_MS,
        coins: { top: 50 },
        detach: true,
        timeoutS: 600,
      });
    });

    it('--ids as a comma-separated list, trimmed and deduplicated in order', () => {
      expect(parseBackfillArgs(['--days', '1', '--ids', 'bitcoin, ethereum,bitcoin,usd-coin'], DEMO).coins).toEqual({
        ids: ['bitcoin', 'ethereum', 'usd-coin'],
      });
    });

    it('--from alone: up to now; a date is midnight UTC and a time without an offset is UTC', () => {
      expect(parseBackfillArgs(['--from', '2026-11-01'], DEMO)).toMatchObject({
        fromMs: Date.UTC(2026, 10, 1),
        toMs: NOW,
      });
      expect(parseBackfillArgs(['--from', '2026-11-01T06:30', '--to', '2026-11-02 08:00'], DEMO)).toMatchObject({
        fromMs: Date.UTC(2026, 10, 1, 6, 30),
        toMs: Date.UTC(2026, 10, 2, 8),
      });
      expect(parseBackfillArgs(['--from', '2026-11-01T06:30+02:00'], DEMO).fromMs).toBe(Date.UTC(2026, 10, 1, 4, 30));
    });

    it('any --days on the pro plan, which has no history limit', () => {
      expect(parseBackfillArgs(['--days', '2000'], PRO).fromMs).toBe(NOW - 2000 * DAY_MS);
    });

    it('up to 364 days on a plan that reaches 365 (the limit counts from when CoinGecko answers)', () => {
      expect(parseBackfillArgs(['--days', '364'], DEMO).fromMs).toBe(NOW - 364 * DAY_MS);
      expect(NOW - 364 * DAY_MS).toBeGreaterThan(NOW - 365 * DAY_MS + HISTORY_LIMIT_MARGIN_MS);
    });
  });

  describe('refuses, naming the problem', () => {
    it.each([
      [['--days', '-1'], '--days "-1": expected a whole number from 1 to 100000'],
      [['--days', '0'], '--days "0": expected a whole number from 1 to 100000'],
      [['--days', '2.5'], '--days "2.5": expected a whole number from 1 to 100000'],
      [['--days', 'thirty'], '--days "thirty": expected a whole number from 1 to 100000'],
      [['--days', '3', '--top', '0'], '--top "0": expected a whole number from 1 to 100000'],
      [['--days', '3', '--timeout', '-5'], '--timeout "-5": expected a whole number from 1 to 604800'],
      [
        ['--from', 'last week'],
        '--from "last week": expected an ISO date or time, e.g. 2026-11-01 or 2026-11-01T12:00Z',
      ],
      [['--from', '2026-13-01'], '--from "2026-13-01": expected an ISO date or time'],
      [['--from', '2026-02-30'], '--from "2026-02-30": expected an ISO date or time'],
      [['--from', '2026-11-02', '--to', '2026-11-01'], '--from 2026-11-02 is not before --to 2026-11-01'],
      [['--from', '2026-11-01', '--to', '2026-11-01'], '--from 2026-11-01 is not before --to 2026-11-01'],
      [['--from', '2026-12-01', '--to', '2027-01-01'], '--to 2027-01-01 is in the future'],
      [['--from', '2026-12-08'], '--from 2026-12-08 is not in the past'],
      [['--days', '3', '--ids', 'bitcoin,Ethereum,drop table'], '--ids: not CoinGecko coin ids'],
      [['--days', '3', '--ids', ','], '--ids is empty'],
      [['--days', '3', '--ids', 'bitcoin', '--top', '5'], 'give --ids or --top, not both'],
      [['--days', '3', '--from', '2026-11-01'], 'give --days or --from, not both'],
      [['--days', '3', '--to', '2026-11-01'], '--to goes with --from'],
      [[], 'give --days N or --from ISO'],
      [['--detach'], 'give --days N or --from ISO'],
      [['--days', '3', '--verbose'], 'unknown option --verbose'],
      [['--days', '3', 'bitcoin'], 'unexpected argument "bitcoin"'],
      [['--days', '3', '--days', '4'], '--days is given more than once'],
      [['--days', '3', '--detach=yes'], '--detach takes no value'],
      [['--days'], '--days needs a value'],
    ])('%j', (argv, expected) => {
      expect(problems(argv).join('\n')).toContain(expected);
    });

    it('an id list with junk, quoting each bad id', () => {
      expect(problems(['--days', '3', '--ids', 'bitcoin,Ethereum,,drop table'])).toEqual([
        `--ids: not CoinGecko coin ids (lowercase letters, digits, '.', '_', '-'): "Ethereum", "", "drop table"`,
      ]);
    });

    it("--days beyond the plan's 365 days, naming the plan, the limit, the error and the most allowed", () => {
      const [problem, ...others] = problems(['--days', '400']);
      expect(others).toEqual([]);
      expect(problem).toMatch(/^--days 400 reaches past the demo plan's history limit/);
      expect(problem).toContain('only the past 365 days');
      expect(problem).toContain('HTTP 401, error 10012');
      expect(problem).toContain('--days 364 at most');
      expect(problem).toContain('COINGECKO_PLAN=pro');
    });

    it('--days 365 itself on such a plan (its oldest call would reach past the limit by the time it is made)', () => {
      expect(problems(['--days', '365'])).toEqual([expect.stringContaining('--days 364 at most')]);
    });

    it('a --from older than the plan allows, naming it', () => {
      expect(problems(['--from', '2025-01-01'], { ...DEMO, plan: 'public' })).toEqual([
        expect.stringMatching(/^--from 2025-01-01 reaches past the public plan's history limit/),
      ]);
    });

    it('with every problem at once, in one message', () => {
      let error: unknown;
      try {
        parseBackfillArgs(['--days', '-1', '--ids', 'bitcoin,BAD', '--top', '3', '--bogus', 'x'], DEMO);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BackfillArgsError);
      const { problems: listed, message } = error as BackfillArgsError;
      expect(listed).toHaveLength(5);
      expect(message).toMatch(/^backfill: 5 problems with the arguments:\n/);
      for (const expected of ['--days "-1"', '--ids: not CoinGecko coin ids', 'give --ids or --top', '--bogus', '"x"'])
        expect(message).toContain(expected);
      // One problem a line, so the user sees them all.
      expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(5);
    });
  });
});

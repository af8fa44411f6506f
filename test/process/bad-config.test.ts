import { PipelineProcess, ENTRY_POINTS } from '../helpers/processes.js';

describe('starting a process with bad configuration', () => {
  it.each(Object.keys(ENTRY_POINTS).filter((k) => k !== 'simulator') as (keyof typeof ENTRY_POINTS)[])(
    '%s stops with exit code 78 and one message listing every bad variable',
    async (kind) => {
      const child = new PipelineProcess(kind, {
        TICK_INTERVAL: 'soon',
        FETCH_CONCURRENCY: '0',
        DATABASE_URL: 'mysql://db/x',
        COINGECKO_PLAN: 'pro',
        DASHBOARD_PASSWORD: 'correct-horse-battery-staple',
      });
      const { code } = await child.exited;
      expect(code).toBe(78);
      const output = child.lines.join('\n');
      expect(output).toContain('Invalid configuration (5 problems)');
      expect(output).toMatch(/TICK_INTERVAL="soon": expected a duration/);
      expect(output).toMatch(/FETCH_CONCURRENCY="0": expected an integer from 1 to 256/);
      expect(output).toMatch(/DATABASE_URL="<redacted>": expected a URL \(postgres:\/\/ or postgresql:\/\/\)/);
      expect(output).toMatch(/COINGECKO_API_KEY: expected an API key: COINGECKO_PLAN=pro requires one/);
      expect(output).toMatch(/DASHBOARD_USER: expected to be set together with its partner/);
      // Secrets are never echoed, not even in the error.
      expect(output).not.toContain('correct-horse-battery-staple');
      expect(output).not.toContain('mysql://db/x');
    },
  );
});

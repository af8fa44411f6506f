/** CoinGecko access plans: where requests go, how the key travels, and the documented rate limit. */
export type CoinGeckoPlan = 'public' | 'demo' | 'pro';

export interface PlanInfo {
  readonly baseUrl: string;
  /** Header carrying the key; the query-string alternative is never used because URLs end up in logs. */
  readonly keyHeader: string | undefined;
  /** Calls per minute CoinGecko documents for the plan (keyless is IP-based and varies: 5 is safe). */
  readonly defaultRateLimitPerMin: number;
  /** How far back /market_chart/range reaches (401 with error 10012 beyond); undefined: no limit. */
  readonly historyDays: number | undefined;
}

export const PLANS: Readonly<Record<CoinGeckoPlan, PlanInfo>> = {
  public: {
    baseUrl: 'https://api.coingecko.com/api/v3',
    keyHeader: undefined,
    defaultRateLimitPerMin: 5,
    historyDays: 365,
  },
  demo: {
    baseUrl: 'https://api.coingecko.com/api/v3',
    keyHeader: 'x-cg-demo-api-key',
    defaultRateLimitPerMin: 30,
    historyDays: 365,
  },
  pro: {
    baseUrl: 'https://pro-api.coingecko.com/api/v3',
    keyHeader: 'x-cg-pro-api-key',
    defaultRateLimitPerMin: 500,
    historyDays: undefined,
  },
};

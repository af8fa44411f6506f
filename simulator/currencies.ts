/**
 * Supported `vs_currency` values with fixed USD conversion rates. Fixed (rather than following the
 * simulated BTC price) so a test can convert expectations with one multiplication.
 */
export const VS_RATES: Readonly<Record<string, number>> = Object.freeze({
  usd: 1,
  eur: 0.92,
  gbp: 0.79,
  jpy: 151.4,
  aud: 1.5,
  cad: 1.36,
  chf: 0.9,
  cny: 7.24,
  inr: 83.5,
  krw: 1370,
  btc: 1 / 67_000,
  eth: 1 / 3_400,
});

/** The USD→`vs` rate, or undefined when CoinGecko would answer `invalid vs_currency`. */
export function vsRate(vs: string): number | undefined {
  return Object.hasOwn(VS_RATES, vs) ? VS_RATES[vs] : undefined;
}

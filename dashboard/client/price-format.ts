/**
 * How every page writes a coin's price: the cards, the tables, the chart's price axis and its
 * crosshair label. A fixed number of decimals fails a third of the coins: 29% trade under $0.01,
 * where two decimals read "0.00" and an axis "0.00, −0.02…". So the decimals follow the price: whole
 * dollars from $1,000, cents from $1, and 4 significant digits below a dollar ($0.00005170).
 * Pure functions, no DOM: the server renders the first values with them too (views/pages.ts).
 */

/** Decimals beyond which a double no longer tells prices apart (and the chart's minMove would be 0). */
const MAX_DIGITS = 15;

/** Decimals to write `price` with: 0 from $1,000, 2 from $1, else 4 significant digits. */
export function priceDigits(price: number): number {
  const size = Math.abs(price);
  if (size >= 1000) return 0;
  if (size >= 1 || size === 0 || !Number.isFinite(size)) return 2;
  return Math.min(MAX_DIGITS, 3 - Math.floor(Math.log10(size)));
}

/**
 * Decimals for a price axis over `low`..`high`: enough for the smallest price, and enough that ticks
 * a fraction of the span apart differ (a stablecoin between $0.9998 and $1.0003 needs more than cents).
 */
export function axisDigits(low: number, high: number): number {
  const span = Math.abs(high - low);
  const spanDigits = span > 0 ? 2 - Math.floor(Math.log10(span)) : 0;
  const smallest = Math.min(Math.abs(low), Math.abs(high)) || Math.max(Math.abs(low), Math.abs(high));
  return Math.max(0, Math.min(MAX_DIGITS, Math.max(priceDigits(smallest), spanDigits)));
}

/** 95,432 · 1.23 · 0.5000 · 0.00005170, with `digits` decimals (default: the price's own). */
export function plainPrice(price: number, digits = priceDigits(price)): string {
  return price.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A price in dollars for cards and tables ($0.00005170), or — when there is none. */
export function usdPrice(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `$${plainPrice(value)}`;
}

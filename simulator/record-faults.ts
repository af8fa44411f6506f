/**
 * Corrupted records and schema drift in `/coins/markets` items. Corruption is a pure function of
 * (fault seed, coin, step), so a test can predict exactly which records are bad.
 */
import { unitOf } from './hash.js';
import type { FaultSettings } from './options.js';
import type { MarketsItem } from './records.js';
import type { Coin } from './universe.js';

/** The corruptions `invalidRecordRate` picks from, one per affected record. */
export const CORRUPTIONS = ['price-string', 'last-updated-text', 'market-cap-object', 'missing-id'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/** Which corruption (if any) `coin`'s record gets during `step`. */
export function corruptionFor(
  coin: Coin,
  step: number,
  faultSeed: number,
  settings: Pick<FaultSettings, 'invalidRecordRate' | 'invalidCoinIds'>,
): Corruption | undefined {
  if (settings.invalidCoinIds.includes(coin.id)) return 'price-string';
  if (settings.invalidRecordRate <= 0 || unitOf(faultSeed, coin.index, step, 0xbad) >= settings.invalidRecordRate)
    return undefined;
  return CORRUPTIONS[Math.floor(unitOf(faultSeed, coin.index, step, 0xbad2) * CORRUPTIONS.length)];
}

/** Freezes an inactive coin's last_updated, applies corruption, then renames, stringified numbers and extra fields. */
export function presentRecord(
  item: MarketsItem,
  corruption: Corruption | undefined,
  settings: FaultSettings,
): Record<string, unknown> {
  let record: Record<string, unknown> = { ...item };
  const frozenAt = settings.inactiveCoins[item.id];
  if (frozenAt !== undefined) record.last_updated = frozenAt;
  switch (corruption) {
    case 'price-string':
      record.current_price = 'n/a';
      break;
    case 'last-updated-text':
      record.last_updated = 'yesterday';
      break;
    case 'market-cap-object':
      record.market_cap = {};
      break;
    case 'missing-id':
      delete record.id;
      break;
  }
  for (const field of settings.stringifyFields) {
    if (typeof record[field] === 'number') record[field] = String(record[field]);
  }
  const renames = settings.renameFields;
  if (Object.keys(renames).length > 0) {
    // Rebuilt rather than mutated so a renamed field keeps its position.
    record = Object.fromEntries(Object.entries(record).map(([k, v]) => [renames[k] ?? k, v]));
  }
  return Object.assign(record, structuredClone(settings.extraFields));
}

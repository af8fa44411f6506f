import type { Counter } from 'prom-client';

/** Distinct field labels cdp_coingecko_schema_drift_total may carry, besides `other`. */
export const MAX_DRIFT_LABELS = 50;
/** Longest field label; a longer name is cut to this many characters. */
const MAX_LABEL_LENGTH = 64;

/**
 * Counts records carrying an undocumented field into a counter labelled by field name, keeping the
 * label set bounded however many new names CoinGecko sends: the first `cap` distinct names get a
 * label of their own, every later one is counted as `other`, in this batch and every later one.
 */
export function schemaDriftCounter(
  counter: Counter<'field'>,
  cap = MAX_DRIFT_LABELS,
): (field: string, records: number) => void {
  const labelled = new Set<string>();
  return (field, records) => {
    const name = field.slice(0, MAX_LABEL_LENGTH);
    // Only a name that got a label is remembered: one counted as other stays other.
    if (!labelled.has(name) && labelled.size < cap) labelled.add(name);
    counter.inc({ field: labelled.has(name) ? name : 'other' }, records);
  };
}

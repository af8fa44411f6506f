import client from 'prom-client';
import { MAX_DRIFT_LABELS, schemaDriftCounter } from '../../../workers/load/schema-drift-labels.js';

/** cdp_coingecko_schema_drift_total's label values must stay a bounded set whatever CoinGecko sends. */
describe(schemaDriftCounter.name, () => {
  const fresh = () => {
    const counter = new client.Counter({
      name: 'drift_test_total',
      help: 'test',
      labelNames: ['field'] as const,
      registers: [],
    });
    return { counter, count: schemaDriftCounter(counter) };
  };
  const series = async (counter: client.Counter<'field'>) =>
    new Map((await counter.get()).values.map((v) => [String(v.labels.field), v.value]));

  it('keeps at most the cap of field labels, plus other, however many new fields arrive in however many batches', async () => {
    const { counter, count } = fresh();
    const fields = Array.from({ length: 500 }, (_, i) => `new_field_${i}`);
    // Each field is seen in several batches, with new fields arriving between its sightings.
    for (let batch = 0; batch < 5; batch++) {
      for (const field of fields) count(field, 1);
      for (const field of [...fields].reverse()) count(field, 2);
    }
    const labels = await series(counter);
    expect(labels.size).toBeLessThanOrEqual(MAX_DRIFT_LABELS + 1);
    expect([...labels.keys()].filter((l) => l !== 'other')).toEqual(fields.slice(0, MAX_DRIFT_LABELS));
    // Nothing is lost: every record is counted under its field's label or under other.
    expect([...labels.values()].reduce((a, b) => a + b, 0)).toBe(500 * 5 * 3);
    expect(labels.get('new_field_0')).toBe(5 * 3);
    expect(labels.get('other')).toBe((500 - MAX_DRIFT_LABELS) * 5 * 3);
  });

  it('gives a field that got its own label that label in every later batch', async () => {
    const { counter, count } = fresh();
    count('market_cap_dominance', 10);
    for (let i = 0; i < 200; i++) count(`noise_${i}`, 1);
    count('market_cap_dominance', 5);
    expect((await series(counter)).get('market_cap_dominance')).toBe(15);
  });

  it('cuts a long field name to 64 characters, and names differing only after that share one label', async () => {
    const { counter, count } = fresh();
    const long = 'x'.repeat(64);
    count(`${long}_a`, 1);
    count(`${long}_b`, 1);
    expect([...(await series(counter)).entries()]).toEqual([[long, 2]]);
  });
});

/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { byId, urlParam } from './dom.js';
import {
  activeBounds,
  BOUNDS,
  CAP_BANDS,
  capBand,
  CHANGE_WINDOWS,
  fieldNumber,
  fieldText,
  urlNumber,
  type Bound,
  type ChangeWindow,
  type Screener,
} from './screener-values.js';

/**
 * The screener form on the market page (views/pages.ts renders it in a <details>): reads the filters
 * from the URL, shows them in the form, and reports each change the user makes once it is valid.
 */

/** The filters in the URL; a value the API would refuse, or a maximum under its minimum, is dropped and listed in `ignored`. */
export function screenerFromUrl(ignored: string[]): Screener {
  const filters: Screener = {
    changeWindow: urlParam(
      'changeWindow',
      '24h',
      (v) => (CHANGE_WINDOWS as readonly string[]).includes(v),
      ignored,
    ) as ChangeWindow,
  };
  for (const bound of BOUNDS) {
    const text = urlParam(bound, '', (v) => urlNumber(bound, v) !== undefined, ignored);
    if (text !== '') filters[bound] = Number(text);
  }
  for (const [min, max] of [
    ['marketCapMin', 'marketCapMax'],
    ['changeMin', 'changeMax'],
  ] as const) {
    if (filters[min]! > filters[max]!) {
      ignored.push(`${max}=${filters[max]} (under ${min})`);
      filters[max] = undefined;
    }
  }
  return filters;
}

const FIELDS: Readonly<Record<Bound, string>> = {
  marketCapMin: 'f-cap-min',
  marketCapMax: 'f-cap-max',
  changeMin: 'f-change-min',
  changeMax: 'f-change-max',
  volumeMin: 'f-volume-min',
};
const LABELS: Readonly<Record<Bound, string>> = {
  marketCapMin: 'Market cap from: an amount such as 250M or 1.5B',
  marketCapMax: 'Market cap to: an amount such as 250M or 1.5B',
  changeMin: 'Change from: a percentage from -100, such as -5 or 2.5',
  changeMax: 'Change to: a percentage from -100, such as -5 or 2.5',
  volumeMin: 'Volume from: an amount such as 10M',
};

/** Fills the form from `filters` and calls `changed` with new filters whenever the user sets valid ones. */
export function bindScreener(filters: Screener, changed: (next: Screener) => void): { show(next: Screener): void } {
  const form = byId<HTMLFormElement>('screener-form');
  const band = byId<HTMLSelectElement>('f-cap-band');
  const changeWindow = byId<HTMLSelectElement>('f-change-window');
  const error = byId('filter-error');
  const field = (bound: Bound) => byId<HTMLInputElement>(FIELDS[bound]);

  const show = (next: Screener) => {
    for (const bound of BOUNDS) {
      field(bound).value = fieldText(bound, next[bound]);
      field(bound).removeAttribute('aria-invalid');
    }
    changeWindow.value = next.changeWindow;
    band.value = capBand(next);
    error.hidden = true;
    const count = activeBounds(next);
    byId('filter-badge').textContent = count ? `(${count} active)` : '';
    byId<HTMLButtonElement>('clear-filters').disabled = count === 0;
  };

  /** The form's filters, or undefined (with the reasons shown) when a field holds something the API would refuse. */
  const read = (): Screener | undefined => {
    const next: Screener = { changeWindow: changeWindow.value as ChangeWindow };
    const problems: string[] = [];
    for (const bound of BOUNDS) {
      const value = fieldNumber(bound, field(bound).value);
      field(bound).toggleAttribute('aria-invalid', value === undefined);
      if (value === undefined) problems.push(LABELS[bound]);
      else if (value !== null) next[bound] = value;
    }
    if (next.marketCapMin! > next.marketCapMax!) problems.push('Market cap: "from" is above "to"');
    if (next.changeMin! > next.changeMax!) problems.push('Change: "from" is above "to"');
    error.textContent = problems.join('. ');
    error.hidden = problems.length === 0;
    return problems.length ? undefined : next;
  };

  const apply = () => {
    const next = read();
    if (!next) return;
    show(next);
    changed(next);
  };

  band.replaceChildren(
    new Option('Any', ''),
    ...CAP_BANDS.map((b) => new Option(b.label, b.key)),
    new Option('Custom (from / to)', 'custom'),
  );
  band.addEventListener('change', () => {
    const preset = CAP_BANDS.find((b) => b.key === band.value);
    if (band.value === 'custom') return field('marketCapMin').focus();
    field('marketCapMin').value = fieldText('marketCapMin', preset?.min);
    field('marketCapMax').value = fieldText('marketCapMax', preset?.max);
    apply();
  });
  changeWindow.addEventListener('change', apply);
  for (const bound of BOUNDS) field(bound).addEventListener('change', apply);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  byId('clear-filters').addEventListener('click', () => {
    const cleared: Screener = { changeWindow: '24h' };
    show(cleared);
    changed(cleared);
  });

  show(filters);
  // Open where there is room, or where filters are set; on a phone a closed one keeps the table in view.
  if (activeBounds(filters) > 0 || matchMedia('(min-width: 601px)').matches)
    byId<HTMLDetailsElement>('screener').open = true;
  return { show };
}

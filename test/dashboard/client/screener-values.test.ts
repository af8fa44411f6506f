import {
  capBand,
  fieldNumber,
  fieldText,
  screenerParams,
  urlNumber,
} from '../../../dashboard/client/screener-values.js';

describe('fieldNumber', () => {
  it.each<[Parameters<typeof fieldNumber>[0], string, number | null | undefined]>([
    ['marketCapMin', '', null],
    ['marketCapMin', '  ', null],
    ['marketCapMin', '250M', 250_000_000],
    ['marketCapMin', '1.1b', 1_100_000_000],
    ['marketCapMin', '$2T', 2e12],
    ['marketCapMin', '1,500,000', 1_500_000],
    ['marketCapMin', '10 k', 10_000],
    ['marketCapMin', '-1', undefined],
    ['marketCapMin', '1e9', undefined],
    ['marketCapMin', 'lots', undefined],
    ['marketCapMax', '2000T', undefined], // above the API's 10^15
    ['changeMin', '-5', -5],
    ['changeMin', '2.5%', 2.5],
    ['changeMin', '-100', -100],
    ['changeMin', '-101', undefined],
    ['changeMax', '5M', undefined], // no units on a percentage
    ['volumeMin', '10M', 10_000_000],
  ])('%s "%s" → %s', (bound, text, want) => {
    expect(fieldNumber(bound, text)).toBe(want);
  });
});

describe('fieldText', () => {
  it.each<[Parameters<typeof fieldText>[0], number | undefined, string]>([
    ['marketCapMin', undefined, ''],
    ['marketCapMin', 1e9, '1B'],
    ['marketCapMin', 1_100_000_000, '1.1B'],
    ['marketCapMax', 250_000_000, '250M'],
    ['volumeMin', 1_234_567, '1234567'],
    ['volumeMin', 999, '999'],
    ['changeMin', -5.5, '-5.5'],
  ])('%s %s → "%s", which reads back as the same number', (bound, value, want) => {
    expect(fieldText(bound, value)).toBe(want);
    if (value !== undefined) expect(fieldNumber(bound, want)).toBe(value);
  });
});

describe('urlNumber', () => {
  it('takes what the API takes and nothing else', () => {
    expect(urlNumber('marketCapMin', '1000000000')).toBe(1e9);
    expect(urlNumber('changeMin', '-2.25')).toBe(-2.25);
    for (const text of ['1B', '1e9', ' 1', '+1', '-1', '1,000', '', '2000000000000000'])
      expect([text, urlNumber('marketCapMin', text)]).toEqual([text, undefined]);
  });
});

describe('capBand', () => {
  it('names the preset the bounds are, custom for others, none for no bounds', () => {
    expect(capBand({ changeWindow: '24h' })).toBe('');
    expect(capBand({ changeWindow: '24h', marketCapMin: 1e8, marketCapMax: 1e9 })).toBe('small');
    expect(capBand({ changeWindow: '24h', marketCapMin: 1e10 })).toBe('large');
    expect(capBand({ changeWindow: '24h', marketCapMin: 1e10, marketCapMax: 2e10 })).toBe('custom');
  });
});

describe('screenerParams', () => {
  it('writes the bounds in one order, the window only when not the default', () => {
    expect(screenerParams({ changeWindow: '24h' })).toEqual([]);
    expect(screenerParams({ volumeMin: 5, changeWindow: '7d', changeMax: 1, marketCapMin: 2 })).toEqual([
      ['marketCapMin', '2'],
      ['changeWindow', '7d'],
      ['changeMax', '1'],
      ['volumeMin', '5'],
    ]);
  });
});

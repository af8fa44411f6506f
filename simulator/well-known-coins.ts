/**
 * Real coins that head the universe, with magnitudes of mid-2024 so the top of the ranking looks
 * familiar. Supplies: `null` means CoinGecko reports none (e.g. DOGE's total, ETH's max).
 */
export interface WellKnownCoin {
  id: string;
  symbol: string;
  name: string;
  priceUsd: number;
  circulating: number;
  total: number | null;
  max: number | null;
  /** Daily log-price volatility; stablecoins barely move. */
  dailyVol: number;
  ath: [price: number, date: string];
  atl: [price: number, date: string];
  roi?: { currency: string; icoPriceUsd: number };
  platforms?: Record<string, string>;
}

const STABLE = 0.0005;

export const WELL_KNOWN_COINS: readonly WellKnownCoin[] = [
  { id: 'bitcoin', symbol: 'btc', name: 'Bitcoin', priceUsd: 78_000, circulating: 19_712_000, total: 19_712_000, max: 21_000_000, dailyVol: 0.028, ath: [108_786, '2025-01-20T09:11:54.494Z'], atl: [67.81, '2013-07-06T00:00:00.000Z'] },
  { id: 'ethereum', symbol: 'eth', name: 'Ethereum', priceUsd: 3_400, circulating: 120_200_000, total: 120_200_000, max: null, dailyVol: 0.034, ath: [4_878.26, '2021-11-10T14:24:19.604Z'], atl: [0.432979, '2015-10-20T00:00:00.000Z'], roi: { currency: 'btc', icoPriceUsd: 70 } },
  { id: 'tether', symbol: 'usdt', name: 'Tether', priceUsd: 1, circulating: 112_000_000_000, total: 112_000_000_000, max: null, dailyVol: STABLE, ath: [1.32, '2018-07-24T00:00:00.000Z'], atl: [0.572521, '2015-03-02T00:00:00.000Z'], platforms: { ethereum: '0xdac17f958d2ee523a2206206994597c13d831ec7', tron: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', solana: 'Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB' } },
  { id: 'binancecoin', symbol: 'bnb', name: 'BNB', priceUsd: 590, circulating: 147_580_000, total: 147_580_000, max: 200_000_000, dailyVol: 0.03, ath: [717.48, '2024-06-06T14:10:59.816Z'], atl: [0.0398177, '2017-10-19T00:00:00.000Z'] },
  { id: 'solana', symbol: 'sol', name: 'Solana', priceUsd: 150, circulating: 462_000_000, total: 580_000_000, max: null, dailyVol: 0.045, ath: [259.96, '2021-11-06T21:54:35.825Z'], atl: [0.500801, '2020-05-11T19:35:23.449Z'] },
  { id: 'usd-coin', symbol: 'usdc', name: 'USDC', priceUsd: 1, circulating: 32_500_000_000, total: 32_500_000_000, max: null, dailyVol: STABLE, ath: [1.17, '2019-05-08T00:40:28.300Z'], atl: [0.877647, '2023-03-11T08:02:13.981Z'], platforms: { ethereum: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48', solana: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' } },
  { id: 'ripple', symbol: 'xrp', name: 'XRP', priceUsd: 0.52, circulating: 55_500_000_000, total: 99_990_000_000, max: 100_000_000_000, dailyVol: 0.035, ath: [3.4, '2018-01-07T00:00:00.000Z'], atl: [0.00268621, '2014-05-22T00:00:00.000Z'] },
  { id: 'staked-ether', symbol: 'steth', name: 'Lido Staked Ether', priceUsd: 3_400, circulating: 9_500_000, total: 9_500_000, max: null, dailyVol: 0.034, ath: [4_829.57, '2021-11-10T14:40:47.256Z'], atl: [482.9, '2020-12-22T04:08:21.854Z'], platforms: { ethereum: '0xae7ab96520de3a18e5e111b5eaab095312d7fe84' } },
  { id: 'dogecoin', symbol: 'doge', name: 'Dogecoin', priceUsd: 0.15, circulating: 144_600_000_000, total: null, max: null, dailyVol: 0.05, ath: [0.731578, '2021-05-08T05:08:23.458Z'], atl: [0.0000869, '2015-05-06T00:00:00.000Z'] },
  { id: 'the-open-network', symbol: 'ton', name: 'Toncoin', priceUsd: 6.5, circulating: 2_500_000_000, total: 5_110_000_000, max: null, dailyVol: 0.045, ath: [8.25, '2024-06-15T00:36:51.509Z'], atl: [0.519364, '2021-09-21T00:33:11.092Z'] },
  { id: 'cardano', symbol: 'ada', name: 'Cardano', priceUsd: 0.45, circulating: 35_600_000_000, total: 45_000_000_000, max: 45_000_000_000, dailyVol: 0.04, ath: [3.09, '2021-09-02T06:00:10.474Z'], atl: [0.01925275, '2020-03-13T02:22:55.044Z'] },
  { id: 'tron', symbol: 'trx', name: 'TRON', priceUsd: 0.12, circulating: 87_400_000_000, total: 87_400_000_000, max: null, dailyVol: 0.025, ath: [0.231673, '2018-01-05T00:00:00.000Z'], atl: [0.00180434, '2017-11-12T00:00:00.000Z'] },
  { id: 'avalanche-2', symbol: 'avax', name: 'Avalanche', priceUsd: 35, circulating: 393_000_000, total: 445_000_000, max: 720_000_000, dailyVol: 0.05, ath: [144.96, '2021-11-21T14:18:56.538Z'], atl: [2.8, '2020-12-31T13:15:21.540Z'] },
  { id: 'wrapped-bitcoin', symbol: 'wbtc', name: 'Wrapped Bitcoin', priceUsd: 78_000, circulating: 155_000, total: 155_000, max: 155_000, dailyVol: 0.028, ath: [108_500, '2025-01-20T09:11:54.494Z'], atl: [3_139.17, '2019-04-02T00:00:00.000Z'], platforms: { ethereum: '0x2260fac5e5542a773aa44fbcfedf7c193bc2c599' } },
  { id: 'shiba-inu', symbol: 'shib', name: 'Shiba Inu', priceUsd: 0.000022, circulating: 589_260_000_000_000, total: 589_500_000_000_000, max: null, dailyVol: 0.06, ath: [0.00008616, '2021-10-28T03:54:55.568Z'], atl: [5.6366e-11, '2020-11-28T11:26:25.838Z'], platforms: { ethereum: '0x95ad61b0a150d79219dcf64e1e6cc01f0b64c4ce' } },
  { id: 'chainlink', symbol: 'link', name: 'Chainlink', priceUsd: 15, circulating: 587_000_000, total: 1_000_000_000, max: 1_000_000_000, dailyVol: 0.05, ath: [52.7, '2021-05-10T00:13:57.214Z'], atl: [0.148183, '2017-11-29T00:00:00.000Z'], platforms: { ethereum: '0x514910771af9ca656af840dff83e8264ecf986ca' } },
  { id: 'polkadot', symbol: 'dot', name: 'Polkadot', priceUsd: 7, circulating: 1_440_000_000, total: 1_500_000_000, max: null, dailyVol: 0.045, ath: [54.98, '2021-11-04T14:10:09.301Z'], atl: [2.7, '2020-08-20T05:48:11.359Z'] },
  { id: 'bitcoin-cash', symbol: 'bch', name: 'Bitcoin Cash', priceUsd: 450, circulating: 19_730_000, total: 19_730_000, max: 21_000_000, dailyVol: 0.045, ath: [3_785.82, '2017-12-20T00:00:00.000Z'], atl: [76.93, '2018-12-16T00:00:00.000Z'] },
  { id: 'near', symbol: 'near', name: 'NEAR Protocol', priceUsd: 6, circulating: 1_070_000_000, total: 1_200_000_000, max: null, dailyVol: 0.055, ath: [20.44, '2022-01-16T22:09:45.873Z'], atl: [0.526762, '2020-11-04T16:09:15.137Z'] },
  { id: 'uniswap', symbol: 'uni', name: 'Uniswap', priceUsd: 9, circulating: 600_000_000, total: 1_000_000_000, max: 1_000_000_000, dailyVol: 0.05, ath: [44.92, '2021-05-03T05:25:04.822Z'], atl: [1.03, '2020-09-17T01:20:38.214Z'], platforms: { ethereum: '0x1f9840a85d5af5bf1d1762f925bdaddc4201f984' } },
  { id: 'litecoin', symbol: 'ltc', name: 'Litecoin', priceUsd: 80, circulating: 74_800_000, total: 84_000_000, max: 84_000_000, dailyVol: 0.035, ath: [410.26, '2021-05-10T03:13:07.904Z'], atl: [1.15, '2015-01-14T00:00:00.000Z'] },
  { id: 'dai', symbol: 'dai', name: 'Dai', priceUsd: 1, circulating: 5_350_000_000, total: 5_350_000_000, max: null, dailyVol: STABLE, ath: [1.22, '2020-03-13T03:02:50.373Z'], atl: [0.88196, '2023-03-11T07:50:50.514Z'], platforms: { ethereum: '0x6b175474e89094c44da98b954eedeac495271d0f' } },
  { id: 'leo-token', symbol: 'leo', name: 'LEO Token', priceUsd: 5.8, circulating: 925_000_000, total: 985_000_000, max: null, dailyVol: 0.015, ath: [8.14, '2022-02-08T17:40:10.285Z'], atl: [0.799859, '2019-12-24T15:14:35.376Z'], platforms: { ethereum: '0x2af5d2ad76741191d15dfe7bf6ac92d4bd912ca3' } },
  { id: 'pepe', symbol: 'pepe', name: 'Pepe', priceUsd: 0.0000085, circulating: 420_690_000_000_000, total: 420_690_000_000_000, max: 420_690_000_000_000, dailyVol: 0.07, ath: [0.00001717, '2024-05-27T08:30:04.474Z'], atl: [5.5142e-8, '2023-04-18T02:14:41.591Z'], platforms: { ethereum: '0x6982508145454ce325ddbe47a25d4ec3d2311933' } },
  { id: 'internet-computer', symbol: 'icp', name: 'Internet Computer', priceUsd: 11, circulating: 465_000_000, total: 515_000_000, max: null, dailyVol: 0.05, ath: [700.65, '2021-05-10T16:05:53.653Z'], atl: [2.87, '2023-09-22T00:29:57.369Z'] },
  { id: 'ethereum-classic', symbol: 'etc', name: 'Ethereum Classic', priceUsd: 26, circulating: 147_000_000, total: 210_700_000, max: 210_700_000, dailyVol: 0.045, ath: [167.09, '2021-05-06T18:34:22.133Z'], atl: [0.615038, '2016-07-25T00:00:00.000Z'] },
  { id: 'matic-network', symbol: 'matic', name: 'Polygon', priceUsd: 0.7, circulating: 9_900_000_000, total: 10_000_000_000, max: 10_000_000_000, dailyVol: 0.05, ath: [2.92, '2021-12-27T02:08:34.307Z'], atl: [0.00314376, '2019-05-10T00:00:00.000Z'], platforms: { ethereum: '0x7d1afa7b718fb893db30a3abc0cfc608aacfebb0' } },
  { id: 'stellar', symbol: 'xlm', name: 'Stellar', priceUsd: 0.11, circulating: 29_000_000_000, total: 50_000_000_000, max: 50_000_000_000, dailyVol: 0.04, ath: [0.875563, '2018-01-03T00:00:00.000Z'], atl: [0.00047612, '2015-03-05T00:00:00.000Z'] },
  { id: 'monero', symbol: 'xmr', name: 'Monero', priceUsd: 130, circulating: 18_440_000, total: null, max: null, dailyVol: 0.035, ath: [542.33, '2018-01-09T00:00:00.000Z'], atl: [0.216177, '2015-01-14T00:00:00.000Z'] },
  { id: 'cosmos', symbol: 'atom', name: 'Cosmos Hub', priceUsd: 8, circulating: 390_000_000, total: null, max: null, dailyVol: 0.045, ath: [44.45, '2022-01-17T00:34:41.497Z'], atl: [1.16, '2020-03-13T02:27:44.591Z'] },
  { id: 'okb', symbol: 'okb', name: 'OKB', priceUsd: 50, circulating: 60_000_000, total: 300_000_000, max: 300_000_000, dailyVol: 0.03, ath: [73.88, '2024-03-13T13:45:30.146Z'], atl: [0.580608, '2019-01-14T00:00:00.000Z'], platforms: { ethereum: '0x75231f58b43240c9718dd58b4967c5114342a86c' } },
  { id: 'filecoin', symbol: 'fil', name: 'Filecoin', priceUsd: 5.5, circulating: 550_000_000, total: 1_960_000_000, max: null, dailyVol: 0.05, ath: [236.84, '2021-04-01T13:29:41.564Z'], atl: [2.64, '2022-12-16T22:45:28.552Z'] },
  { id: 'aptos', symbol: 'apt', name: 'Aptos', priceUsd: 8, circulating: 430_000_000, total: 1_100_000_000, max: null, dailyVol: 0.055, ath: [19.92, '2023-01-26T14:25:17.390Z'], atl: [3.08, '2022-12-29T21:35:14.796Z'] },
  { id: 'hedera-hashgraph', symbol: 'hbar', name: 'Hedera', priceUsd: 0.1, circulating: 35_700_000_000, total: 50_000_000_000, max: 50_000_000_000, dailyVol: 0.045, ath: [0.569229, '2021-09-15T10:40:28.318Z'], atl: [0.00986111, '2020-01-02T17:30:24.852Z'] },
];

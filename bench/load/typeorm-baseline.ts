import type { Repository } from 'typeorm';
import { validateMarketRecord, type MarketRecord } from '../../core/coingecko/market-record.js';
import { MarketSnapshot } from '../../core/db/entities/market-snapshot.js';
import { recordResidual } from '../../core/snapshots/record-residual.js';
import type { ParsedBatch } from './load-path.js';

const num = (v: unknown) => (typeof v === 'number' ? v : null);
const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);

function toEntity(record: MarketRecord, input: ParsedBatch): MarketSnapshot {
  const v = record.values;
  const roi = v.roi as { times: number; currency: string; percentage: number } | null;
  const residual = recordResidual(record.source);
  return Object.assign(new MarketSnapshot(), {
    coinId: record.id,
    vsCurrency: input.vsCurrency,
    lastUpdated: new Date(record.lastUpdated),
    runId: input.runId,
    batchNo: input.batchNo,
    symbol: record.symbol,
    name: record.name,
    currentPrice: num(v.current_price),
    marketCap: num(v.market_cap),
    marketCapRank: num(v.market_cap_rank),
    fullyDilutedValuation: num(v.fully_diluted_valuation),
    totalVolume: num(v.total_volume),
    high24h: num(v.high_24h),
    low24h: num(v.low_24h),
    priceChange24h: num(v.price_change_24h),
    priceChangePercentage24h: num(v.price_change_percentage_24h),
    marketCapChange24h: num(v.market_cap_change_24h),
    marketCapChangePercentage24h: num(v.market_cap_change_percentage_24h),
    circulatingSupply: num(v.circulating_supply),
    totalSupply: num(v.total_supply),
    maxSupply: num(v.max_supply),
    ath: num(v.ath),
    athChangePercentage: num(v.ath_change_percentage),
    athDate: date(v.ath_date),
    atl: num(v.atl),
    atlChangePercentage: num(v.atl_change_percentage),
    atlDate: date(v.atl_date),
    roiTimes: roi?.times ?? null,
    roiCurrency: roi?.currency ?? null,
    roiPercentage: roi?.percentage ?? null,
    priceChangePercentage1h: num(v.price_change_percentage_1h_in_currency),
    priceChangePercentage24hInCurrency: num(v.price_change_percentage_24h_in_currency),
    priceChangePercentage7d: num(v.price_change_percentage_7d_in_currency),
    recordExtra: JSON.parse(residual.extra) as unknown,
    recordUntyped: residual.untyped,
  });
}

/**
 * The ORM way: `repository.save()` of one batch's entities. save() first SELECTs the entities by
 * primary key to choose insert or update, then inserts in chunks, all in one transaction.
 */
export async function typeormSave(repository: Repository<MarketSnapshot>, input: ParsedBatch): Promise<void> {
  const entities: MarketSnapshot[] = [];
  for (const item of input.items) {
    const result = validateMarketRecord(item);
    if (result.ok) entities.push(toEntity(result.record, input));
  }
  await repository.save(entities, { chunk: 250, reload: false });
}

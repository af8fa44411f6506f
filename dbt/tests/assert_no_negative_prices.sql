{{ config(severity='error') }}
-- Prices, market caps and volumes are never negative. Load validation rejects such records, so a row
-- here means something wrote raw snapshots around it; downstream marts are not built from it.

select coin_id, observed_at, price, market_cap, volume_24h, run_id
from {{ ref('stg_coingecko__coin_markets') }}
where price < 0 or market_cap < 0 or volume_24h < 0

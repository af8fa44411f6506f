{{ config(severity='error') }}
-- Scoped to snapshots loaded in the last data_test_lookback_minutes: each run checks new data.
-- Prices, market caps and volumes are never negative. Load validation rejects such records, so a row
-- here means something wrote raw snapshots around it; downstream marts are not built from it.

select coin_id, observed_at, price, market_cap, volume_24h, run_id
from {{ ref('stg_coingecko__coin_markets') }}
where loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'
  and (price < 0 or market_cap < 0 or volume_24h < 0)

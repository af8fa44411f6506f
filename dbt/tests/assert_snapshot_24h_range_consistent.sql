{{ config(severity='warn') }}
-- Scoped to snapshots loaded in the last data_test_lookback_minutes: each run checks new data.
-- CoinGecko's own 24h range should satisfy low_24h <= high_24h; it is upstream data we pass through,
-- so a violation warns instead of stopping the marts.

select coin_id, observed_at, high_24h, low_24h, run_id
from {{ ref('stg_coingecko__coin_markets') }}
where loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'
  and (high_24h < low_24h)

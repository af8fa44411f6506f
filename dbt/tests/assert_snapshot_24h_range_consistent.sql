{{ config(severity='warn') }}
-- CoinGecko's own 24h range should satisfy low_24h <= high_24h; it is upstream data we pass through,
-- so a violation warns instead of stopping the marts.

select coin_id, observed_at, high_24h, low_24h, run_id
from {{ ref('stg_coingecko__coin_markets') }}
where high_24h < low_24h

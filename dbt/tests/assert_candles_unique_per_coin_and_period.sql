{{ config(severity='error') }}
-- The grain of the candle marts: one row per coin and period (the incremental unique key), among
-- the candles rebuilt in the last data_test_lookback_minutes.

with keys as (

    select 'hourly' as grain, coin_id, bucket_start from {{ ref('fct_coin_candles_hourly') }}
    where last_loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'
    union all
    select 'daily' as grain, coin_id, bucket_start from {{ ref('fct_coin_candles_daily') }}
    where last_loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'

)

select grain, coin_id, bucket_start, count(*) as rows_per_key
from keys
group by grain, coin_id, bucket_start
having count(*) > 1

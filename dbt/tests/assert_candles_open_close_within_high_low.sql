{{ config(severity='error') }}
-- Invariant of every candle: low <= open, close <= high (and low <= high). Checks the candles
-- rebuilt in the last data_test_lookback_minutes (older ones were checked when they were built).

with candles as (

    select 'hourly' as grain, coin_id, bucket_start, open_price, high_price, low_price, close_price
    from {{ ref('fct_coin_candles_hourly') }}
    where last_loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'
    union all
    select 'daily' as grain, coin_id, bucket_start, open_price, high_price, low_price, close_price
    from {{ ref('fct_coin_candles_daily') }}
    where last_loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'

)

select *
from candles
where not (low_price <= open_price and open_price <= high_price
           and low_price <= close_price and close_price <= high_price)

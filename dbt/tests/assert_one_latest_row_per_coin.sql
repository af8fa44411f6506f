{{ config(severity='error') }}
-- dim_coins holds exactly one latest row per coin, and every coin with a recent candle (rebuilt in the
-- last data_test_lookback_minutes) has one.

with counts as (

    select coin_id, count(*) as latest_rows
    from {{ ref('dim_coins') }}
    group by coin_id

),

candle_coins as (

    select distinct coin_id from {{ ref('fct_coin_candles_daily') }}
    where last_loaded_at >= now() - interval '{{ var("data_test_lookback_minutes") }} minutes'

)

select candle_coins.coin_id, coalesce(counts.latest_rows, 0) as latest_rows
from candle_coins
full outer join counts on counts.coin_id = candle_coins.coin_id
where coalesce(counts.latest_rows, 0) <> 1

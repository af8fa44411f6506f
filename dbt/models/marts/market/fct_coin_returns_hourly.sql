{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['bucket_start']}
        ]
    )
}}
-- Incremental: hours from lookback_hours before the newest hour already built are recomputed (the
-- candles can change only there), reading the 168 hours of candles before them that their 1h/24h/7d
-- returns and rolling windows need. A changed close inside the window changes only later hours, which
-- are all inside it too, so the result equals a full refresh.

with candles as (

    select coin_id, bucket_start, close_price
    from {{ ref('fct_coin_candles_hourly') }}
    {% if is_incremental() %}
    where bucket_start >= (
        select coalesce(max(bucket_start), '-infinity'::timestamptz) - interval '{{ var("lookback_hours") }} hours' - interval '168 hours'
        from {{ this }}
    )
    {% endif %}

),

with_previous as (

    select
        candles.*,
        lag(bucket_start) over by_coin as previous_bucket_start,
        lag(close_price) over by_coin as previous_close_price
    from candles
    window by_coin as (partition by coin_id order by bucket_start)

),

-- A return spans exactly one hour: after a gap (no snapshot that hour) there is no 1h return.
returns as (

    select
        coin_id,
        bucket_start,
        close_price,
        case when previous_bucket_start = bucket_start - interval '1 hour' and previous_close_price > 0 and close_price > 0
            then close_price / previous_close_price - 1 end as return_1h,
        case when previous_bucket_start = bucket_start - interval '1 hour' and previous_close_price > 0 and close_price > 0
            then ln(close_price / previous_close_price) end as log_return_1h
    from with_previous

),

rolling as (

    select
        returns.*,
        stddev_samp(log_return_1h) over last_24h as volatility_24h,
        count(log_return_1h) over last_24h as return_count_24h,
        stddev_samp(log_return_1h) over last_7d as volatility_7d,
        count(log_return_1h) over last_7d as return_count_7d
    from returns
    window
        last_24h as (partition by coin_id order by bucket_start range between interval '23 hours' preceding and current row),
        last_7d as (partition by coin_id order by bucket_start range between interval '167 hours' preceding and current row)

),

final as (

    select
        rolling.coin_id,
        rolling.bucket_start,
        rolling.close_price,
        rolling.return_1h,
        rolling.log_return_1h,
        case when day_ago.close_price > 0 then rolling.close_price / day_ago.close_price - 1 end as return_24h,
        case when week_ago.close_price > 0 then rolling.close_price / week_ago.close_price - 1 end as return_7d,
        rolling.volatility_24h,
        rolling.return_count_24h,
        rolling.volatility_7d,
        rolling.return_count_7d,
        -- Hourly log-return deviation scaled to a year (24 * 365 hours).
        rolling.volatility_7d * sqrt(8760) as volatility_7d_annualized
    from rolling
    left join candles as day_ago
        on day_ago.coin_id = rolling.coin_id and day_ago.bucket_start = rolling.bucket_start - interval '24 hours'
    left join candles as week_ago
        on week_ago.coin_id = rolling.coin_id and week_ago.bucket_start = rolling.bucket_start - interval '168 hours'
    {% if is_incremental() %}
    where rolling.bucket_start >= (
        select coalesce(max(bucket_start), '-infinity'::timestamptz) - interval '{{ var("lookback_hours") }} hours'
        from {{ this }}
    )
    {% endif %}

)

select * from final

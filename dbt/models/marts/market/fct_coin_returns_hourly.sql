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
-- Incremental: the candles can change only from lookback_hours before the newest hour already built
-- (hours older than that are final), so a run recomputes, per coin, from the first hour of that window
-- whose close or 1h return is new or changed (usually just the newest hour). The 1h return needs the
-- hour before; the 24h / 7d returns read single older candles; volatility reads the trailing 7 days of
-- 1h returns, older ones from this table (final, so equal to a full refresh), newer ones recomputed.
-- That keeps lookback_hours under 24: an older candle never changes under a 24h return.
-- Only candles built from live snapshots count (source 'snapshots'): history candles fill old hours
-- outside the look-back window, which an incremental run never revisits, so returns and anomaly scores
-- over them would differ from a full refresh; their 5-minutely-to-hourly sampling would also mix two
-- kinds of volatility in one baseline (dbt/README.md "Candles from history").

{% if is_incremental() %}
with candles as (

    -- The look-back window and the hour before it (for the first hour's 1h return), through the
    -- bucket_start index (macros/incremental_windows.sql); in the worker's runs only from the first
    -- hour with a rebuilt candle (and the hour before it) on: an hour's 1h return changes only with
    -- its own candle or the one before, so earlier hours would only be compared to find them equal.
    select coin_id, bucket_start, close_price
    from {{ ref('fct_coin_candles_hourly') }}
    where source = 'snapshots'
      and {{ in_changed_window('bucket_start', ref('fct_coin_candles_hourly'), extra_hours=1) }}

),
{% else %}
with candles as (

    select coin_id, bucket_start, close_price
    from {{ ref('fct_coin_candles_hourly') }}
    where source = 'snapshots'

),
{% endif %}

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

{% if is_incremental() %}
recent_returns as (

    -- The hour before the first rebuilt one was read only for its close: its own return lacks its
    -- previous hour here.
    select * from returns
    where bucket_start >= {{ changed_window_start(ref('fct_coin_candles_hourly')) }}

),

-- The rows this model holds in the look-back window, read in one index range (matching each recent
-- hour by a lookup of its own cost thousands of index probes per run).
recently_built as (

    select coin_id, bucket_start, close_price, log_return_1h
    from {{ this }}
    where {{ in_changed_window('bucket_start', ref('fct_coin_candles_hourly')) }}

),

rebuild_from as (

    select recent_returns.coin_id, min(recent_returns.bucket_start) as bucket_start
    from recent_returns
    left join recently_built as built
        on built.coin_id = recent_returns.coin_id and built.bucket_start = recent_returns.bucket_start
    where built.coin_id is null
       or built.close_price is distinct from recent_returns.close_price
       or built.log_return_1h is distinct from recent_returns.log_return_1h
    group by recent_returns.coin_id

),

-- The hours rebuilt, with the closes 24 and 168 hours earlier (one index lookup each; `limit 1` keeps
-- the lookup a lookup instead of a join over every candle) and the coin's rebuilt hours up to this one
-- with their 1h log returns, as arrays the volatility below unnests.
targets as (

    select
        recent_returns.*,
        rebuild_from.bucket_start as rebuild_from,
        day_ago.close_price as day_ago_close_price,
        week_ago.close_price as week_ago_close_price,
        array_agg(recent_returns.bucket_start) over rebuilt_so_far as rebuilt_bucket_starts,
        array_agg(recent_returns.log_return_1h) over rebuilt_so_far as rebuilt_log_returns
    from recent_returns
    inner join rebuild_from
        on rebuild_from.coin_id = recent_returns.coin_id and recent_returns.bucket_start >= rebuild_from.bucket_start
    left join lateral (
        select close_price from {{ ref('fct_coin_candles_hourly') }} as candle
        where candle.coin_id = recent_returns.coin_id and candle.bucket_start = recent_returns.bucket_start - interval '24 hours'
          and candle.source = 'snapshots'
        limit 1
    ) as day_ago on true
    left join lateral (
        select close_price from {{ ref('fct_coin_candles_hourly') }} as candle
        where candle.coin_id = recent_returns.coin_id and candle.bucket_start = recent_returns.bucket_start - interval '168 hours'
          and candle.source = 'snapshots'
        limit 1
    ) as week_ago on true
    window rebuilt_so_far as (partition by recent_returns.coin_id order by recent_returns.bucket_start)

),

-- Sample standard deviation and count of the 1h log returns of each target hour's trailing 24 hours /
-- 7 days: hours before the coin's first rebuilt one from this table (final, so equal to a full
-- refresh, read through its (coin_id, bucket_start) index), later ones from the rebuilt hours.
-- stddev_samp has no inverse transition, so the full refresh's sliding window frames re-aggregate each
-- row's frame in hour order; `order by` feeds these the same way, so the floats are identical.
rolling as (

    select targets.*, trailing_window.*
    from targets
    cross join lateral (
        select
            stddev_samp(history.log_return_1h order by history.bucket_start)
                filter (where history.bucket_start >= targets.bucket_start - interval '23 hours') as volatility_24h,
            count(history.log_return_1h)
                filter (where history.bucket_start >= targets.bucket_start - interval '23 hours') as return_count_24h,
            stddev_samp(history.log_return_1h order by history.bucket_start) as volatility_7d,
            count(history.log_return_1h) as return_count_7d
        from (
            select built.bucket_start, built.log_return_1h
            from {{ this }} as built
            where built.coin_id = targets.coin_id
              and built.bucket_start >= targets.bucket_start - interval '167 hours'
              and built.bucket_start < targets.rebuild_from
            union all
            select rebuilt.bucket_start, rebuilt.log_return_1h
            from unnest(targets.rebuilt_bucket_starts, targets.rebuilt_log_returns) as rebuilt (bucket_start, log_return_1h)
        ) as history
    ) as trailing_window

),
{% else %}
rolling as (

    select
        returns.*,
        -- The close exactly 24 / 168 hours earlier: a frame of that one hour (empty, so null, when
        -- the hour has no candle).
        first_value(close_price) over day_ago as day_ago_close_price,
        first_value(close_price) over week_ago as week_ago_close_price,
        stddev_samp(log_return_1h) over last_24h as volatility_24h,
        count(log_return_1h) over last_24h as return_count_24h,
        stddev_samp(log_return_1h) over last_7d as volatility_7d,
        count(log_return_1h) over last_7d as return_count_7d
    from returns
    window
        day_ago as (partition by coin_id order by bucket_start range between interval '24 hours' preceding and interval '24 hours' preceding),
        week_ago as (partition by coin_id order by bucket_start range between interval '168 hours' preceding and interval '168 hours' preceding),
        last_24h as (partition by coin_id order by bucket_start range between interval '23 hours' preceding and current row),
        last_7d as (partition by coin_id order by bucket_start range between interval '167 hours' preceding and current row)

),
{% endif %}

final as (

    select
        coin_id,
        bucket_start,
        close_price,
        return_1h,
        log_return_1h,
        case when day_ago_close_price > 0 then close_price / day_ago_close_price - 1 end as return_24h,
        case when week_ago_close_price > 0 then close_price / week_ago_close_price - 1 end as return_7d,
        volatility_24h,
        return_count_24h,
        volatility_7d,
        return_count_7d,
        -- Hourly log-return deviation scaled to a year (24 * 365 hours).
        volatility_7d * sqrt(8760) as volatility_7d_annualized
    from rolling

)

select * from final

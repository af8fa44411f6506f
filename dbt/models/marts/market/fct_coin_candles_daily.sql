{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        full_refresh=false,
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['last_loaded_at']}
        ]
    )
}}
-- full_refresh=false: raw snapshots age out (retention), so this mart is the only lasting history of
-- old periods; a --full-refresh must not rebuild it from what raw still holds.
--
-- The rule (dbt/README.md "Candles from history"): a day with any hourly candle is rolled up from its
-- hourly candles (source 'snapshots' or 'history' when they all share it, else 'mixed'); a day without
-- is built from its daily history points (source 'history').

{% if is_incremental() %}
-- The days holding an hourly candle rebuilt, or a daily point loaded, since this model's last run.
with touched as (

    select coin_id, date_trunc('day', bucket_start, 'UTC') as bucket_start
    from {{ ref('fct_coin_candles_hourly') }}
    where {{ loaded_since_last_run('last_loaded_at') }}
    union
    select coin_id, date_trunc('day', observed_at, 'UTC') as bucket_start
    from {{ ref('stg_coingecko__history_points') }}
    where resolution_s = 86400
      and {{ loaded_since_last_run('loaded_at') }}

),

-- Each touched day from its hours, looked up per (coin, day) through the hourly mart's key index.
from_hours as (

    select touched.coin_id, touched.bucket_start, day_aggregates.*
    from touched
    cross join lateral (
        select
{{ candle_day_aggregates() }}
        from {{ ref('fct_coin_candles_hourly') }} as day_hours
        where day_hours.coin_id = touched.coin_id
          and day_hours.bucket_start >= touched.bucket_start
          and day_hours.bucket_start < touched.bucket_start + interval '1 day'
        having count(*) > 0
    ) as day_aggregates

),

from_daily_points as (

    select touched.coin_id, touched.bucket_start, day_aggregates.*
    from touched
    cross join lateral (
        select
{{ history_period_aggregates() }}
        from (
            select *, resolution_s as finest_resolution_s
            from {{ ref('stg_coingecko__history_points') }} as day_points
            where day_points.coin_id = touched.coin_id
              and day_points.observed_at >= touched.bucket_start
              and day_points.observed_at < touched.bucket_start + interval '1 day'
              and day_points.resolution_s = 86400
        ) as ranked
        having count(*) > 0
    ) as day_aggregates
    where not exists (
        select 1 from from_hours
        where from_hours.coin_id = touched.coin_id and from_hours.bucket_start = touched.bucket_start
    )

),
{% else %}
with from_hours as (

    select
        coin_id,
        date_trunc('day', bucket_start, 'UTC') as bucket_start,
{{ candle_day_aggregates() }}
    from {{ ref('fct_coin_candles_hourly') }}
    group by 1, 2

),

from_daily_points as (

    select
        coin_id,
        bucket_start,
{{ history_period_aggregates() }}
    from (
        select *, resolution_s as finest_resolution_s, date_trunc('day', observed_at, 'UTC') as bucket_start
        from {{ ref('stg_coingecko__history_points') }}
        where resolution_s = 86400
    ) as ranked
    where not exists (
        select 1 from {{ ref('fct_coin_candles_hourly') }} as day_hours
        where day_hours.coin_id = ranked.coin_id
          and day_hours.bucket_start >= ranked.bucket_start
          and day_hours.bucket_start < ranked.bucket_start + interval '1 day'
    )
    group by 1, 2

),
{% endif %}

chosen as (

    select
        coin_id, bucket_start, open_price, high_price, low_price, close_price, price_sum, market_cap,
        market_cap_rank, volume_24h, snapshot_count, point_count, source, first_observed_at,
        last_observed_at, last_loaded_at
    from from_hours
    union all
    select {{ history_as_candle('from_daily_points') }}
    from from_daily_points

)

{{ candle_columns('1 day') }}

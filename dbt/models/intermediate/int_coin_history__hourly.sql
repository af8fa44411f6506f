{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['last_loaded_at']}
        ]
    )
}}
-- History points (market_chart/range) aggregated per coin and UTC hour, from the points of the finest
-- resolution the hour has (5-minutely beats hourly): two backfills of different spans never mix their
-- samplings in one candle. Daily points (resolution 86400) build no hour: one point a day says nothing
-- about the hour it falls in; the daily candles use them for days without hourly data.

{% if is_incremental() %}
-- History points arrive for old hours (loaded_at = now, observed_at days back), so there is no
-- look-back window: every (coin, hour) that points loaded since the last run fall into is aggregated
-- again from all of its points (a dozen at most), looked up through raw's primary key.
with touched as (

    select distinct
        coin_id,
        date_trunc('hour', observed_at, 'UTC') as bucket_start
    from {{ ref('stg_coingecko__history_points') }}
    where resolution_s < 86400
      and {{ loaded_since_last_run('loaded_at') }}

),

aggregated as (

    select touched.coin_id, touched.bucket_start, hour_aggregates.*
    from touched
    cross join lateral (
        select
{{ history_period_aggregates() }}
        from (
            select *, min(resolution_s) over () as finest_resolution_s
            from {{ ref('stg_coingecko__history_points') }} as hour_points
            where hour_points.coin_id = touched.coin_id
              and hour_points.observed_at >= touched.bucket_start
              and hour_points.observed_at < touched.bucket_start + interval '1 hour'
              and hour_points.resolution_s < 86400
        ) as ranked
    ) as hour_aggregates

)
{% else %}
with ranked as (

    select
        *,
        min(resolution_s) over (partition by coin_id, bucket_start) as finest_resolution_s
    from (
        select *, date_trunc('hour', observed_at, 'UTC') as bucket_start
        from {{ ref('stg_coingecko__history_points') }}
        where resolution_s < 86400
    ) as points

),

aggregated as (

    select
        coin_id,
        bucket_start,
{{ history_period_aggregates() }}
    from ranked
    group by coin_id, bucket_start

)
{% endif %}

select
{{ history_period_columns() }}
from aggregated

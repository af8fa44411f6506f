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

{% if is_incremental() %}
-- The (coin, day) pairs holding an hour rebuilt with snapshots loaded since the last run; each is
-- rolled up again from all of its hours.
with touched as (

    select distinct
        coin_id,
        date_trunc('day', bucket_start, 'UTC') as day_start
    from {{ ref('int_coin_prices__hourly') }}
    where {{ loaded_since_last_run('last_loaded_at') }}

),

-- Each touched day rolled up from its hours, looked up per (coin, day) through the hourly model's
-- (coin_id, bucket_start) index: the full refresh's aggregates, computed per day inside the lateral
-- subquery, so no sort of every hour by (coin, day) precedes them.
aggregated as (

    select touched.coin_id, touched.day_start as bucket_start, day_aggregates.*
    from touched
    cross join lateral (
        select
{{ hourly_period_aggregates() }}
        from {{ ref('int_coin_prices__hourly') }} as day_hours
        where day_hours.coin_id = touched.coin_id
          and day_hours.bucket_start >= touched.day_start
          and day_hours.bucket_start < touched.day_start + interval '1 day'
    ) as day_aggregates

)
{% else %}
with hourly as (

    select * from {{ ref('int_coin_prices__hourly') }}

),

bucketed as (

    select
        *,
        date_trunc('day', bucket_start, 'UTC') as day_start
    from hourly

),

aggregated as (

    select
        coin_id,
        day_start as bucket_start,
{{ hourly_period_aggregates() }}
    from bucketed
    group by coin_id, day_start

)
{% endif %}

-- The day's price sum, its hours' sums added in hour order in both paths (so an incremental run and a
-- full refresh get the same float), over its snapshot count: the average of the day's snapshots.
select
{{ period_columns() }}
from aggregated

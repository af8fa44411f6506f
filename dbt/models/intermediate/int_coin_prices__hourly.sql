{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['bucket_start']},
            {'columns': ['last_loaded_at']}
        ]
    )
}}

{% if is_incremental() %}
-- Only the (coin, hour) pairs that snapshots loaded since the last run fall into are recomputed, each
-- from all of its snapshots, so a re-run tick or a late batch replaces its hours with full-refresh
-- values. Hours before lookback_hours ahead of the newest hour already built stay as they are.
-- (The watermark macros are in macros/incremental_windows.sql: each partition is read through its
-- loaded_at btree, and the observed_at bound, the partition key, prunes the older partitions.)
with touched as (

    select distinct
        coin_id,
        date_trunc('hour', observed_at, 'UTC') as bucket_start
    from {{ ref('stg_coingecko__coin_markets') }}
    where price is not null
      and {{ loaded_since_last_run('loaded_at') }}
      and {{ in_lookback_window('observed_at') }}

),

-- Each touched hour aggregated from its snapshots, looked up per (coin, hour) through raw's primary
-- key: the same aggregates as the full refresh, computed per hour inside the lateral subquery, so no
-- sort of every snapshot by (coin, hour) precedes them.
aggregated as (

    select touched.coin_id, touched.bucket_start, hour_aggregates.*
    from touched
    cross join lateral (
        select
            (array_agg(price order by observed_at))[1] as open_price,
            max(price) as high_price,
            min(price) as low_price,
            (array_agg(price order by observed_at desc))[1] as close_price,
            avg(price) as avg_price,
            (array_agg(market_cap order by observed_at desc))[1] as market_cap,
            (array_agg(market_cap_rank order by observed_at desc))[1] as market_cap_rank,
            (array_agg(volume_24h order by observed_at desc))[1] as volume_24h,
            count(*) as snapshot_count,
            min(observed_at) as first_observed_at,
            max(observed_at) as last_observed_at,
            max(loaded_at) as last_loaded_at
        from {{ ref('stg_coingecko__coin_markets') }} as hour_snapshots
        where hour_snapshots.coin_id = touched.coin_id
          and hour_snapshots.observed_at >= touched.bucket_start
          and hour_snapshots.observed_at < touched.bucket_start + interval '1 hour'
          and hour_snapshots.price is not null
    ) as hour_aggregates

)
{% else %}
with snapshots as (

    select * from {{ ref('stg_coingecko__coin_markets') }}
    where price is not null

),

bucketed as (

    select
        *,
        date_trunc('hour', observed_at, 'UTC') as bucket_start
    from snapshots

),

aggregated as (

    select
        coin_id,
        bucket_start,
        (array_agg(price order by observed_at))[1] as open_price,
        max(price) as high_price,
        min(price) as low_price,
        (array_agg(price order by observed_at desc))[1] as close_price,
        avg(price) as avg_price,
        (array_agg(market_cap order by observed_at desc))[1] as market_cap,
        (array_agg(market_cap_rank order by observed_at desc))[1] as market_cap_rank,
        (array_agg(volume_24h order by observed_at desc))[1] as volume_24h,
        count(*) as snapshot_count,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at,
        max(loaded_at) as last_loaded_at
    from bucketed
    group by coin_id, bucket_start

)
{% endif %}

select * from aggregated

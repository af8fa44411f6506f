{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start']
    )
}}

with snapshots as (

    select * from {{ ref('stg_coingecko__coin_markets') }}
    where price is not null
    {% if is_incremental() %}
      -- Recompute whole hours from lookback_hours before the newest one already built: late batches
      -- and re-run ticks inside that window replace their hours instead of adding to them.
      and observed_at >= (
          select coalesce(max(bucket_start), '-infinity'::timestamptz) - interval '{{ var("lookback_hours") }} hours'
          from {{ this }}
      )
    {% endif %}

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

select * from aggregated

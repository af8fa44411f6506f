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
-- avg_price is price_sum / snapshot_count, price_sum the prices added up one by one in observed_at
-- order (sum(... order by ...) folds left to right), in both paths: an incremental run that adds an
-- hour's newest snapshots to the stored price_sum, in the same order, gets the same float as a full
-- refresh (avg(price) adds in whatever order rows arrive, so no stored value could be extended).

{% if is_incremental() %}
-- Only the (coin, hour) pairs that snapshots loaded since the last run fall into are rebuilt, so a
-- re-run tick or a late batch replaces its hours with full-refresh values. Hours before lookback_hours
-- ahead of the newest hour already built stay as they are. (The watermark macros are in
-- macros/incremental_windows.sql: each partition is read through its loaded_at btree, and the
-- observed_at bound, the partition key, prunes the older partitions.)
with touched as (

    select
        coin_id,
        date_trunc('hour', observed_at, 'UTC') as bucket_start,
        min(observed_at) as first_new_observed_at
    from {{ ref('stg_coingecko__coin_markets') }}
    where price is not null
      and {{ loaded_since_last_run('loaded_at') }}
      and {{ in_lookback_window('observed_at') }}
    group by 1, 2

),

-- The rows this model holds in the look-back window from the first touched hour on (usually just the
-- newest hour, whatever the window holds), read in one bucket_start index range.
built as (

    select *
    from {{ this }}
    -- One range (the later start), not two: two ranges ANDed are estimated at one row.
    where bucket_start >= greatest(
            {{ lookback_window_start() }},
            (select coalesce(min(bucket_start), 'infinity'::timestamptz) from touched)
        )
      and bucket_start <= 'infinity'::timestamptz

),

-- A touched hour already built can be extended instead of re-aggregated when the snapshots it was
-- built from are still exactly those observed up to its last_observed_at: then the snapshots observed
-- later are exactly the ones not yet aggregated. Snapshots are never updated (the load skips keys
-- already present) and only retention deletes them (whole days, older than the look-back window).
checked as materialized (

    select
        touched.coin_id,
        touched.bucket_start,
        built.bucket_start is not null
{%- if var('loaded_after') %}
            -- The snapshots loaded after the last run's load barrier are all the ones no successful run
            -- has aggregated, so the hour holds every other one: it is extendable when none of them was
            -- observed at or before its last_observed_at. (One a failed run already aggregated looks late
            -- here: the hour is aggregated again, which is only slower.)
            and touched.first_new_observed_at > built.last_observed_at as is_extendable
{%- else %}
            -- Without the barrier, the snapshots read again from the loaded_lookback_minutes overlap look
            -- new: counting the ones observed up to last_observed_at proves the stored row holds them all.
            -- A late snapshot (observed at or before last_observed_at, committed after the build) makes
            -- the count differ from snapshot_count, and the hour is aggregated again from all of them. The
            -- count reads the snapshots' primary-key range, sparing the full aggregate's ordered
            -- aggregates (a sort each).
            and built.snapshot_count = (
                select count(*)
                from {{ ref('stg_coingecko__coin_markets') }} as hour_snapshots
                where hour_snapshots.coin_id = touched.coin_id
                  and hour_snapshots.observed_at >= touched.bucket_start
                  and hour_snapshots.observed_at <= built.last_observed_at
                  and hour_snapshots.price is not null
            ) as is_extendable
{%- endif %}
    from touched
    left join built
        on built.coin_id = touched.coin_id and built.bucket_start = touched.bucket_start

),

-- Extended hours: the stored row merged with the snapshots observed after its last_observed_at (hours
-- with none, touched only by the loaded_lookback_minutes overlap of a run without the load barrier,
-- are unchanged and not rewritten).
-- price_sum continues the stored fold with the new prices in observed_at order: the same additions, in
-- the same order, as the full aggregate's.
extended as (

    select
        built.coin_id,
        built.bucket_start,
        built.open_price,
        greatest(built.high_price, newer.high_price) as high_price,
        least(built.low_price, newer.low_price) as low_price,
        newer.prices[cardinality(newer.prices)] as close_price,
        (
            select sum(term order by term_order)
            from unnest(array[built.price_sum] || newer.prices) with ordinality as terms (term, term_order)
        ) as price_sum,
        newer.market_cap,
        newer.market_cap_rank,
        newer.volume_24h,
        built.snapshot_count + newer.snapshot_count as snapshot_count,
        built.first_observed_at,
        newer.last_observed_at,
        greatest(built.last_loaded_at, newer.last_loaded_at) as last_loaded_at
    from checked
    inner join built
        on built.coin_id = checked.coin_id and built.bucket_start = checked.bucket_start
    cross join lateral (
        select
            max(price) as high_price,
            min(price) as low_price,
            array_agg(price order by observed_at) as prices,
            (array_agg(market_cap order by observed_at desc))[1] as market_cap,
            (array_agg(market_cap_rank order by observed_at desc))[1] as market_cap_rank,
            (array_agg(volume_24h order by observed_at desc))[1] as volume_24h,
            count(*) as snapshot_count,
            max(observed_at) as last_observed_at,
            max(loaded_at) as last_loaded_at
        from {{ ref('stg_coingecko__coin_markets') }} as newer_snapshots
        where newer_snapshots.coin_id = checked.coin_id
          and newer_snapshots.observed_at > built.last_observed_at
          and newer_snapshots.observed_at < checked.bucket_start + interval '1 hour'
          and newer_snapshots.price is not null
        having count(*) > 0
    ) as newer
    where checked.is_extendable

),

-- Other touched hours (new ones, or with a late snapshot) aggregated from all of their snapshots,
-- looked up per (coin, hour) through raw's primary key: the same aggregates as the full refresh,
-- computed per hour inside the lateral subquery, so no sort of every snapshot by (coin, hour)
-- precedes them.
recomputed as (

    select checked.coin_id, checked.bucket_start, hour_aggregates.*
    from checked
    cross join lateral (
        select
{{ snapshot_period_aggregates() }}
        from {{ ref('stg_coingecko__coin_markets') }} as hour_snapshots
        where hour_snapshots.coin_id = checked.coin_id
          and hour_snapshots.observed_at >= checked.bucket_start
          and hour_snapshots.observed_at < checked.bucket_start + interval '1 hour'
          and hour_snapshots.price is not null
    ) as hour_aggregates
    where not checked.is_extendable

),

aggregated as (

    select * from extended
    union all
    select * from recomputed

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
{{ snapshot_period_aggregates() }}
    from bucketed
    group by coin_id, bucket_start

)
{% endif %}

select
{{ period_columns() }}
from aggregated

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
-- Rule: a coin's hourly log return is anomalous when its robust z-score against the coin's own
-- returns in the trailing anomaly_window_hours (the hour itself included) exceeds
-- anomaly_z_threshold in absolute value:
--   z = 0.6745 * (r - median(r)) / MAD(r)                      (Iglewicz & Hoaglin, 1993)
-- When MAD is 0 (a price flat for most of the window, e.g. a stablecoin) the mean absolute
-- deviation stands in: z = (r - median(r)) / (1.253314 * MeanAD(r)); if that is 0 too, no score.
--
-- Incremental: each hour's score depends only on returns up to that hour, so a run re-scores, per
-- coin, from the first hour of the look-back window whose return is new or changed (usually just the
-- newest hour), reading only those hours' trailing windows from fct_coin_returns_hourly. Both tables
-- are read through their bucket_start indexes (macros/incremental_windows.sql).

{% if is_incremental() %}
with recent as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from {{ ref('fct_coin_returns_hourly') }}
    where log_return_1h is not null
      and {{ in_lookback_window('bucket_start') }}

),

recently_scored as (

    select coin_id, bucket_start, log_return_1h
    from {{ this }}
    where {{ in_lookback_window('bucket_start') }}

),

-- Per coin, the hours from the first new or changed one on: a window over the compared rows, not an
-- aggregate joined back to them. (Joined back, a stale row estimate, e.g. statistics taken while every
-- return was still null, made Postgres re-run the aggregate once per recent row: 140 ms for 1000.)
compared as (

    select
        recent.*,
        scored.coin_id is null
            or scored.log_return_1h is distinct from recent.log_return_1h
            or recent.bucket_start >= (select max(bucket_start) from {{ this }}) as is_new_or_changed
    from recent
    left join recently_scored as scored
        on scored.coin_id = recent.coin_id and scored.bucket_start = recent.bucket_start

),

targets as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from (
        select
            compared.*,
            min(case when is_new_or_changed then bucket_start end) over (partition by coin_id) as rescore_from
        from compared
    ) as with_rescore_from
    where bucket_start >= rescore_from

),
{% else %}
with targets as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from {{ ref('fct_coin_returns_hourly') }}
    where log_return_1h is not null

),
{% endif %}

-- Each target hour's trailing window of the coin's returns, read once through the returns'
-- (coin_id, bucket_start) index in hour order into an array (ARRAY(subquery) keeps the subquery's
-- order): at most anomaly_window_hours rows per target, however long the history. `materialized`
-- computes each step once per target (inlined, every expression reading a value would re-run its
-- subquery). The median and the MAD sort the window; the mean absolute deviation, needed only when
-- the MAD is 0, is computed only then (a CASE runs its subquery lazily), summed in hour order.
windows as materialized (

    select
        targets.*,
        array(
            select history.log_return_1h
            from {{ ref('fct_coin_returns_hourly') }} as history
            where history.coin_id = targets.coin_id
              and history.bucket_start > targets.bucket_start - interval '{{ var("anomaly_window_hours") }} hours'
              and history.bucket_start <= targets.bucket_start
              and history.log_return_1h is not null
            order by history.bucket_start
        ) as window_returns
    from targets

),

medians as materialized (

    select
        windows.*,
        (select percentile_cont(0.5) within group (order by r) from unnest(window_returns) as r) as median_log_return
    from windows

),

scored as (

    select
        coin_id,
        bucket_start,
        close_price,
        return_1h,
        log_return_1h,
        median_log_return,
        mad_log_return,
        cardinality(window_returns)::bigint as observation_count,
        case
            when mad_log_return > 0
                then 0.6745 * (log_return_1h - median_log_return) / mad_log_return
            else (
                select (log_return_1h - median_log_return) / nullif(1.253314 * avg(abs(r - median_log_return) order by i), 0)
                from unnest(window_returns) with ordinality as window_return (r, i)
            )
        end as robust_z_score
    from medians
    cross join lateral (
        select percentile_cont(0.5) within group (order by abs(r - medians.median_log_return)) as mad_log_return
        from unnest(medians.window_returns) as r
    ) as spreads

),

final as (

    select
        scored.*,
        coalesce(
            observation_count >= {{ var('anomaly_min_observations') }}
            and abs(robust_z_score) > {{ var('anomaly_z_threshold') }},
            false
        ) as is_anomaly,
        case
            when observation_count >= {{ var('anomaly_min_observations') }}
                and abs(robust_z_score) > {{ var('anomaly_z_threshold') }}
                then case when robust_z_score > 0 then 'spike' else 'drop' end
        end as anomaly_direction
    from scored

)

select * from final

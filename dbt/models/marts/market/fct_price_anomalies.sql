{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['bucket_start']},
            {'columns': ['is_anomaly', 'bucket_start', 'robust_z_score', 'coin_id']}
        ]
    )
}}
-- (is_anomaly, bucket_start, robust_z_score, coin_id): the dashboard's anomaly feed reads the flagged
-- hours of the last 7 days across every coin, ~25k of the ~2.5M rows those days hold at 15,000 coins,
-- and filters, counts and orders them by these columns alone: an index-only scan of one contiguous
-- range, where the bucket_start index read every row of the window (4 s) and an (is_anomaly,
-- bucket_start) index still fetched a heap page per flagged row (0.7 s). (dbt's `indexes` take
-- columns only, so no partial index.) Created when the table is built: an existing deployment gets it
-- from a full refresh of this model (dashboard/README.md, "Anomaly feed").
--
-- depends_on: {{ ref('fct_coin_candles_hourly') }}
-- (Read only in incremental runs, below: dbt's parser renders with is_incremental() false, so the ref
-- is declared here, or real dbt refuses the run with "unable to infer all dependencies".)
-- Rule: a coin's hourly log return r is anomalous when its robust z-score against a baseline of the
-- coin's own returns in the trailing anomaly_window_hours, the hour itself left out (leave-one-out: the
-- returns of the hours after bucket_start - anomaly_window_hours and before bucket_start), exceeds
-- anomaly_z_threshold in absolute value:
--   z = 0.6745 * (r - median) / MAD                            (Iglewicz & Hoaglin, 1993)
-- When MAD is 0 (a price flat for most of the window, e.g. a stablecoin) the mean absolute
-- deviation from the median stands in: z = (r - median) / (1.253314 * MeanAD); if that is 0 too (or
-- the window is empty), no score. Leaving the hour out keeps a spike from inflating its own baseline.
--
-- Incremental: an hour's baseline (median, MAD, MeanAD, observation count) depends only on earlier
-- hours, and its score on the baseline and the hour's own return. A run re-scores, per coin, from the
-- first hour of the look-back window whose return is new or changed (usually just the newest hour,
-- whose close moves with every tick). A re-scored hour keeps the baseline stored in its row unless an
-- earlier hour of the look-back window is new or changed (or it has no row yet): then the baseline is
-- computed again from its window in fct_coin_returns_hourly. Hours before the look-back window are
-- final, so within an hour a tick costs a z per coin, not a window. Both tables are read through their
-- bucket_start indexes (macros/incremental_windows.sql). A full refresh computes every baseline with
-- the same statements, so both paths store the same floats.

{% if is_incremental() %}
with recent as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from {{ ref('fct_coin_returns_hourly') }}
    where log_return_1h is not null
      -- In the worker's runs, from the first hour with a rebuilt candle on: a return (and so a score
      -- or a later hour's baseline) changes only from there (macros/incremental_windows.sql).
      and {{ in_changed_window('bucket_start', ref('fct_coin_candles_hourly')) }}

),

recently_scored as (

    select coin_id, bucket_start, log_return_1h, median_log_return, mad_log_return, mean_abs_deviation, observation_count
    from {{ this }}
    where {{ in_changed_window('bucket_start', ref('fct_coin_candles_hourly')) }}

),

-- Per coin, the hours from the first new or changed one on: a window over the compared rows, not an
-- aggregate joined back to them. (Joined back, a stale row estimate, e.g. statistics taken while every
-- return was still null, made Postgres re-run the aggregate once per recent row: 140 ms for 1000.)
compared as (

    select
        recent.*,
        scored.coin_id is not null as is_scored,
        scored.median_log_return as stored_median_log_return,
        scored.mad_log_return as stored_mad_log_return,
        scored.mean_abs_deviation as stored_mean_abs_deviation,
        scored.observation_count as stored_observation_count,
        scored.coin_id is null
            or scored.log_return_1h is distinct from recent.log_return_1h as is_new_or_changed,
        recent.bucket_start >= (select max(bucket_start) from {{ this }}) as is_newest
    from recent
    left join recently_scored as scored
        on scored.coin_id = recent.coin_id and scored.bucket_start = recent.bucket_start

),

targets as materialized (

    select *
    from (
        select
            compared.*,
            min(case when is_new_or_changed or is_newest then bucket_start end) over by_coin as rescore_from,
            min(case when is_new_or_changed then bucket_start end) over by_coin as changed_from
        from compared
        window by_coin as (partition by coin_id)
    ) as with_rescore_from
    where bucket_start >= rescore_from

),

-- Re-scored hours whose window is unchanged: no earlier hour of the look-back window is new or changed
-- (older hours are final), so the stored baseline is the one a full refresh computes.
kept_baselines as (

    select
        coin_id, bucket_start, close_price, return_1h, log_return_1h,
        stored_median_log_return as median_log_return,
        stored_mad_log_return as mad_log_return,
        stored_mean_abs_deviation as mean_abs_deviation,
        stored_observation_count as observation_count
    from targets
    where is_scored and (changed_from is null or changed_from >= bucket_start)

),

to_compute as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from targets
    where not (is_scored and (changed_from is null or changed_from >= bucket_start))

),
{% else %}
with to_compute as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from {{ ref('fct_coin_returns_hourly') }}
    where log_return_1h is not null

),
{% endif %}

-- Each hour's baseline window of the coin's returns, read once through the returns' (coin_id,
-- bucket_start) index in hour order into an array (ARRAY(subquery) keeps the subquery's order): under
-- anomaly_window_hours rows per hour, however long the history. `materialized` computes each step once
-- per hour (inlined, every expression reading a value would re-run its subquery). The median and the
-- MAD sort the window; the mean absolute deviation is summed in hour order.
windows as materialized (

    select
        to_compute.*,
        array(
            select history.log_return_1h
            from {{ ref('fct_coin_returns_hourly') }} as history
            where history.coin_id = to_compute.coin_id
              and history.bucket_start > to_compute.bucket_start - interval '{{ var("anomaly_window_hours") }} hours'
              and history.bucket_start < to_compute.bucket_start
              and history.log_return_1h is not null
            order by history.bucket_start
        ) as window_returns
    from to_compute

),

medians as materialized (

    select
        windows.*,
        (select percentile_cont(0.5) within group (order by r) from unnest(window_returns) as r) as median_log_return
    from windows

),

computed_baselines as (

    select
        coin_id,
        bucket_start,
        close_price,
        return_1h,
        log_return_1h,
        median_log_return,
        spreads.mad_log_return,
        spreads.mean_abs_deviation,
        cardinality(window_returns)::bigint as observation_count
    from medians
    cross join lateral (
        select
            percentile_cont(0.5) within group (order by abs(r - medians.median_log_return)) as mad_log_return,
            avg(abs(r - medians.median_log_return) order by i) as mean_abs_deviation
        from unnest(medians.window_returns) with ordinality as window_return (r, i)
    ) as spreads

),

baselines as (

    select * from computed_baselines
    {% if is_incremental() %}
    union all
    select * from kept_baselines
    {% endif %}

),

scored as (

    select
        baselines.*,
        case
            when mad_log_return > 0
                then 0.6745 * (log_return_1h - median_log_return) / mad_log_return
            else (log_return_1h - median_log_return) / nullif(1.253314 * mean_abs_deviation, 0)
        end as robust_z_score
    from baselines

),

final as (

    select
        coin_id,
        bucket_start,
        close_price,
        return_1h,
        log_return_1h,
        median_log_return,
        mad_log_return,
        mean_abs_deviation,
        observation_count,
        robust_z_score,
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

-- Rule: a coin's hourly log return is anomalous when its robust z-score against the coin's own
-- returns in the trailing anomaly_window_hours exceeds anomaly_z_threshold in absolute value:
--   z = 0.6745 * (r - median(r)) / MAD(r)                      (Iglewicz & Hoaglin, 1993)
-- When MAD is 0 (a price flat for most of the window, e.g. a stablecoin) the mean absolute
-- deviation stands in: z = (r - median(r)) / (1.253314 * MeanAD(r)); if that is 0 too, no score.

with returns as (

    select coin_id, bucket_start, close_price, return_1h, log_return_1h
    from {{ ref('fct_coin_returns_hourly') }}
    where log_return_1h is not null

),

window_start as (

    select max(bucket_start) - interval '{{ var("anomaly_window_hours") }} hours' as starts_after
    from returns

),

in_window as (

    select returns.*
    from returns
    cross join window_start
    where returns.bucket_start > window_start.starts_after

),

medians as (

    select
        coin_id,
        percentile_cont(0.5) within group (order by log_return_1h) as median_log_return,
        count(*) as observation_count
    from in_window
    group by coin_id

),

deviations as (

    select
        in_window.*,
        medians.median_log_return,
        medians.observation_count,
        abs(in_window.log_return_1h - medians.median_log_return) as absolute_deviation
    from in_window
    inner join medians on medians.coin_id = in_window.coin_id

),

spreads as (

    select
        coin_id,
        percentile_cont(0.5) within group (order by absolute_deviation) as mad_log_return,
        avg(absolute_deviation) as mean_absolute_deviation
    from deviations
    group by coin_id

),

scored as (

    select
        deviations.coin_id,
        deviations.bucket_start,
        deviations.close_price,
        deviations.return_1h,
        deviations.log_return_1h,
        deviations.median_log_return,
        spreads.mad_log_return,
        deviations.observation_count,
        case
            when spreads.mad_log_return > 0
                then 0.6745 * (deviations.log_return_1h - deviations.median_log_return) / spreads.mad_log_return
            when spreads.mean_absolute_deviation > 0
                then (deviations.log_return_1h - deviations.median_log_return) / (1.253314 * spreads.mean_absolute_deviation)
        end as robust_z_score
    from deviations
    inner join spreads on spreads.coin_id = deviations.coin_id

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

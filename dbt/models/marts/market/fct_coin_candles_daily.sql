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

with aggregates as (

    select * from {{ ref('int_coin_prices__daily') }}
    {% if is_incremental() %}
    -- The periods the intermediate model rebuilt from snapshots loaded since this model's last run.
    where {{ loaded_since_last_run('last_loaded_at') }}
    {% endif %}

),

final as (

    select
        coin_id,
        bucket_start,
        bucket_start + interval '1 day' as bucket_end,
        open_price,
        high_price,
        low_price,
        close_price,
        avg_price,
        case when open_price > 0 then (close_price / open_price - 1) * 100 end as price_change_pct,
        market_cap,
        market_cap_rank,
        volume_24h,
        snapshot_count,
        first_observed_at,
        last_observed_at,
        last_loaded_at
    from aggregates

)

select * from final

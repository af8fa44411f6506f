{{ config(materialized='view') }}

-- Per-coin freshness: how long ago each tracked coin's newest snapshot was loaded, and whether
-- that is past the threshold. A view, so "now" is the reader's now (the dashboard and Grafana).

with coins as (

    select * from {{ ref('dim_coins') }}

),

final as (

    select
        coin_id,
        coin_name,
        coin_symbol,
        market_cap_rank,
        observed_at,
        loaded_at,
        extract(epoch from (now() - loaded_at))::bigint as seconds_since_loaded,
        {{ var('stale_after_seconds') }} as stale_after_seconds,
        loaded_at < now() - make_interval(secs => {{ var('stale_after_seconds') }}) as is_stale
    from coins

)

select * from final

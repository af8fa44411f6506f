{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='bucket_start',
        indexes=[{'columns': ['bucket_start'], 'unique': true}]
    )
}}
-- Incremental: the hours from lookback_hours before the newest hour already built are recomputed from
-- all of their candles (the candles change only there).

with candles as (

    -- Live candles only, as fct_coin_returns_hourly (dbt/README.md "Candles from history").
    select * from {{ ref('fct_coin_candles_hourly') }}
    where source = 'snapshots'
    {% if is_incremental() %}
      -- In the worker's runs only the hours with a rebuilt candle change (macros/incremental_windows.sql).
      and {{ in_changed_window('bucket_start', ref('fct_coin_candles_hourly')) }}
    {% endif %}

),

totals as (

    select
        bucket_start,
        count(*) as coin_count,
        sum(market_cap) as total_market_cap,
        sum(volume_24h) as total_volume_24h,
        sum(market_cap) filter (where coin_id = 'bitcoin') as bitcoin_market_cap,
        sum(market_cap) filter (where coin_id = 'ethereum') as ethereum_market_cap
    from candles
    group by bucket_start

),

movers as (

    select
        bucket_start,
        coin_id,
        price_change_pct,
        row_number() over (partition by bucket_start order by price_change_pct desc, coin_id) as gain_rank,
        row_number() over (partition by bucket_start order by price_change_pct asc, coin_id) as loss_rank
    from candles
    where price_change_pct is not null
      and market_cap_rank <= {{ var('movers_max_rank', 100) }}

),

final as (

    select
        totals.bucket_start,
        totals.coin_count,
        totals.total_market_cap,
        totals.total_volume_24h,
        case when totals.total_market_cap > 0
            then totals.bitcoin_market_cap / totals.total_market_cap * 100 end as bitcoin_dominance_pct,
        case when totals.total_market_cap > 0
            then totals.ethereum_market_cap / totals.total_market_cap * 100 end as ethereum_dominance_pct,
        gainer.coin_id as top_gainer_coin_id,
        gainer.price_change_pct as top_gainer_change_pct,
        loser.coin_id as top_loser_coin_id,
        loser.price_change_pct as top_loser_change_pct
    from totals
    left join movers as gainer
        on gainer.bucket_start = totals.bucket_start and gainer.gain_rank = 1
    left join movers as loser
        on loser.bucket_start = totals.bucket_start and loser.loss_rank = 1

)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='coin_id',
        indexes=[
            {'columns': ['coin_id'], 'unique': true},
            {'columns': ['loaded_at']}
        ]
    )
}}

with recent_snapshots as (

    select
        coin_id,
        coin_symbol,
        coin_name,
        vs_currency,
        price,
        price_change_pct_1h,
        price_change_pct_24h,
        price_change_pct_7d,
        market_cap,
        market_cap_rank,
        volume_24h,
        high_24h,
        low_24h,
        circulating_supply,
        observed_at,
        loaded_at
    from {{ ref('stg_coingecko__coin_markets') }}
    {% if is_incremental() %}
    -- Only snapshots loaded since the last run (with a few minutes of overlap for late commits).
    where {{ loaded_since_last_run('loaded_at', watermark='loaded_at') }}
    {% endif %}

),

candidates as (

    select * from recent_snapshots
    {% if is_incremental() %}
    -- A late batch can carry an older observation (last_updated) than the one already kept: compete with it.
    union all
    select
        coin_id,
        coin_symbol,
        coin_name,
        vs_currency,
        price,
        price_change_pct_1h,
        price_change_pct_24h,
        price_change_pct_7d,
        market_cap,
        market_cap_rank,
        volume_24h,
        high_24h,
        low_24h,
        circulating_supply,
        observed_at,
        loaded_at
    from {{ this }}
    where coin_id in (select coin_id from recent_snapshots)
    {% endif %}

),

latest as (

    select distinct on (coin_id) *
    from candidates
    order by coin_id, observed_at desc, loaded_at

)

select * from latest

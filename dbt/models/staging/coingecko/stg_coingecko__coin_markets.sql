with source as (

    select * from {{ source('coingecko', 'coin_market_snapshots') }}

),

renamed as (

    select
        coin_id,
        last_updated as observed_at,
        vs_currency,
        symbol as coin_symbol,
        name as coin_name,
        current_price as price,
        market_cap,
        market_cap_rank,
        total_volume as volume_24h,
        high_24h,
        low_24h,
        price_change_percentage_1h_in_currency as price_change_pct_1h,
        price_change_percentage_24h_in_currency as price_change_pct_24h,
        price_change_percentage_7d_in_currency as price_change_pct_7d,
        circulating_supply,
        run_id,
        batch_no,
        loaded_at
    from source
    where vs_currency = '{{ var("vs_currency") }}'

)

-- raw's primary key (coin_id, vs_currency, last_updated) makes (coin_id, observed_at) unique once the
-- currency is fixed, so no DISTINCT ON: a plain filter lets every predicate (observed_at, loaded_at)
-- reach the raw partitions and their indexes, which incremental models and scoped tests rely on.
select * from renamed

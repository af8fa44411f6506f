with source as (

    select * from {{ source('coingecko', 'coins') }}

),

renamed as (

    select
        coin_id,
        symbol as coin_symbol,
        name as coin_name,
        market_cap_rank,
        rank_observed_at,
        is_active,
        first_seen_at,
        last_seen_at
    from source

)

select * from renamed

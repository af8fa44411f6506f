with source as (

    select * from {{ source('coingecko', 'coin_history_points') }}

),

renamed as (

    select
        coin_id,
        observed_at,
        vs_currency,
        price,
        market_cap,
        -- market_chart's total_volumes are trailing 24-hour volumes, like the snapshots' total_volume.
        total_volume as volume_24h,
        resolution_s,
        history_run_id,
        loaded_at
    from source
    where vs_currency = '{{ var("vs_currency") }}'

)

-- raw's primary key (coin_id, vs_currency, observed_at) makes (coin_id, observed_at) unique once the
-- currency is fixed; a plain filter keeps that key's index usable for the per-hour lookups.
select * from renamed

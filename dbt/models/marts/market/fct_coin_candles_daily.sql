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

-- The columns are shared with the other candle mart: macros/candles.sql.
{{ candles_from(ref('int_coin_prices__daily'), '1 day') }}

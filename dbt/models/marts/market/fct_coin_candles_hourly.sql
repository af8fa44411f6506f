{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['coin_id', 'bucket_start'],
        full_refresh=false,
        indexes=[
            {'columns': ['coin_id', 'bucket_start'], 'unique': true},
            {'columns': ['bucket_start']},
            {'columns': ['last_loaded_at']}
        ]
    )
}}
-- full_refresh=false: raw snapshots age out (retention), so this mart is the only lasting history of
-- old periods; a --full-refresh must not rebuild it from what raw still holds.
--
-- The rule (dbt/README.md "Candles from history"): an hour with any live snapshot is built from its
-- snapshots (source 'snapshots'), whatever history covers it; an hour without is built from the history
-- points of the finest resolution it has (source 'history', int_coin_history__hourly). A candle once
-- built from snapshots is never replaced by history, even after its snapshots aged out of raw.

{% if is_incremental() %}
-- The hours either intermediate model rebuilt since this model's last run.
with touched as (

    select coin_id, bucket_start
    from {{ ref('int_coin_prices__hourly') }}
    where {{ loaded_since_last_run('last_loaded_at') }}
    union
    select coin_id, bucket_start
    from {{ ref('int_coin_history__hourly') }}
    where {{ loaded_since_last_run('last_loaded_at') }}

),

from_snapshots as (

    select {{ snapshots_as_candle('snapshot_hours') }}
    from touched
    inner join {{ ref('int_coin_prices__hourly') }} as snapshot_hours
        on snapshot_hours.coin_id = touched.coin_id and snapshot_hours.bucket_start = touched.bucket_start

),

-- A history hour is left out (and so left as it is) when the hour has snapshots, in the intermediate
-- model or already here.
from_history as (

    select {{ history_as_candle('history_hours') }}
    from touched
    inner join {{ ref('int_coin_history__hourly') }} as history_hours
        on history_hours.coin_id = touched.coin_id and history_hours.bucket_start = touched.bucket_start
    where not exists (
            select 1 from {{ ref('int_coin_prices__hourly') }} as snapshot_hours
            where snapshot_hours.coin_id = touched.coin_id and snapshot_hours.bucket_start = touched.bucket_start
        )
      and not exists (
            select 1 from {{ this }} as built
            where built.coin_id = touched.coin_id and built.bucket_start = touched.bucket_start
              and built.source = 'snapshots'
        )

),
{% else %}
with from_snapshots as (

    select {{ snapshots_as_candle('snapshot_hours') }}
    from {{ ref('int_coin_prices__hourly') }} as snapshot_hours

),

from_history as (

    select {{ history_as_candle('history_hours') }}
    from {{ ref('int_coin_history__hourly') }} as history_hours
    where not exists (
        select 1 from {{ ref('int_coin_prices__hourly') }} as snapshot_hours
        where snapshot_hours.coin_id = history_hours.coin_id and snapshot_hours.bucket_start = history_hours.bucket_start
    )

),
{% endif %}

chosen as (

    select * from from_snapshots
    union all
    select * from from_history

)

{{ candle_columns('1 hour') }}

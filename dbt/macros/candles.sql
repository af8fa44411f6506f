{#
    The candle marts (fct_coin_candles_hourly, _daily) select the same columns from their intermediate
    model; only the relation and the period length differ. The model passes its `ref(...)` in, so dbt
    sees the dependency in the model itself (a ref only inside a macro would need a depends_on hint).
#}
{% macro candles_from(aggregates_relation, period) -%}
with aggregates as (

    select * from {{ aggregates_relation }}
    {% if is_incremental() %}
    -- The periods the intermediate model rebuilt from snapshots loaded since this model's last run.
    where {{ loaded_since_last_run('last_loaded_at') }}
    {% endif %}

),

final as (

    select
        coin_id,
        bucket_start,
        bucket_start + interval '{{ period }}' as bucket_end,
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
{%- endmacro %}

{#
    The candle marts (fct_coin_candles_hourly, _daily) store the same columns; only the period length
    differs. Each model builds a relation `chosen` (one row per coin and period, already decided by the
    rule snapshots-over-history, see dbt/README.md "Candles from history") and ends with this select.
    avg_price is price_sum / point_count, as in the intermediate models, so both paths get one float.
#}
{% macro candle_columns(period) -%}
    select
        coin_id,
        bucket_start,
        bucket_start + interval '{{ period }}' as bucket_end,
        open_price,
        high_price,
        low_price,
        close_price,
        price_sum / point_count as avg_price,
        case when open_price > 0 then (close_price / open_price - 1) * 100 end as price_change_pct,
        market_cap,
        market_cap_rank,
        volume_24h,
        snapshot_count,
        first_observed_at,
        last_observed_at,
        last_loaded_at,
        source,
        point_count,
        price_sum
    from chosen
{%- endmacro %}

{#- A day rolled up from its hourly candles (fct_coin_candles_hourly rows), in hour order in every
    path; a day whose hours all come from one source keeps it, any other is 'mixed'. -#}
{% macro candle_day_aggregates() -%}
            (array_agg(open_price order by bucket_start))[1] as open_price,
            max(high_price) as high_price,
            min(low_price) as low_price,
            (array_agg(close_price order by bucket_start desc))[1] as close_price,
            sum(price_sum order by bucket_start) as price_sum,
            (array_agg(market_cap order by bucket_start desc))[1] as market_cap,
            (array_agg(market_cap_rank order by bucket_start desc))[1] as market_cap_rank,
            (array_agg(volume_24h order by bucket_start desc))[1] as volume_24h,
            sum(snapshot_count) as snapshot_count,
            sum(point_count) as point_count,
            case
                when bool_and(source = 'snapshots') then 'snapshots'
                when bool_and(source = 'history') then 'history'
                else 'mixed'
            end as source,
            min(first_observed_at) as first_observed_at,
            max(last_observed_at) as last_observed_at,
            max(last_loaded_at) as last_loaded_at
{%- endmacro %}

{#- The columns of a history period (int_coin_history__hourly, or daily points aggregated by
    history_period_aggregates) as a candle: no rank, no snapshots. -#}
{% macro history_as_candle(relation) -%}
        {{ relation }}.coin_id,
        {{ relation }}.bucket_start,
        {{ relation }}.open_price,
        {{ relation }}.high_price,
        {{ relation }}.low_price,
        {{ relation }}.close_price,
        {{ relation }}.price_sum,
        {{ relation }}.market_cap,
        null::integer as market_cap_rank,
        {{ relation }}.volume_24h,
        0::bigint as snapshot_count,
        {{ relation }}.point_count,
        'history'::text as source,
        {{ relation }}.first_observed_at,
        {{ relation }}.last_observed_at,
        {{ relation }}.last_loaded_at
{%- endmacro %}

{#- The columns of a snapshot period (int_coin_prices__hourly) as a candle. -#}
{% macro snapshots_as_candle(relation) -%}
        {{ relation }}.coin_id,
        {{ relation }}.bucket_start,
        {{ relation }}.open_price,
        {{ relation }}.high_price,
        {{ relation }}.low_price,
        {{ relation }}.close_price,
        {{ relation }}.price_sum,
        {{ relation }}.market_cap,
        {{ relation }}.market_cap_rank,
        {{ relation }}.volume_24h,
        {{ relation }}.snapshot_count,
        {{ relation }}.snapshot_count as point_count,
        'snapshots'::text as source,
        {{ relation }}.first_observed_at,
        {{ relation }}.last_observed_at,
        {{ relation }}.last_loaded_at
{%- endmacro %}

{#
    The aggregates of one price period, written once so that every path that builds a period (full
    refresh, incremental re-aggregation) computes exactly the same values: the tests compare an
    incremental run with a full refresh to the last bit, and price_sum is summed in time order in both.
    Plain Jinja that dbt-core and the bundled runner both render.
#}

{#- One hour from its snapshots (stg_coingecko__coin_markets rows). -#}
{% macro snapshot_period_aggregates() -%}
            (array_agg(price order by observed_at))[1] as open_price,
            max(price) as high_price,
            min(price) as low_price,
            (array_agg(price order by observed_at desc))[1] as close_price,
            sum(price order by observed_at) as price_sum,
            (array_agg(market_cap order by observed_at desc))[1] as market_cap,
            (array_agg(market_cap_rank order by observed_at desc))[1] as market_cap_rank,
            (array_agg(volume_24h order by observed_at desc))[1] as volume_24h,
            count(*) as snapshot_count,
            min(observed_at) as first_observed_at,
            max(observed_at) as last_observed_at,
            max(loaded_at) as last_loaded_at
{%- endmacro %}

{#- One day rolled up from its hours (int_coin_prices__hourly rows). -#}
{% macro hourly_period_aggregates() -%}
            (array_agg(open_price order by bucket_start))[1] as open_price,
            max(high_price) as high_price,
            min(low_price) as low_price,
            (array_agg(close_price order by bucket_start desc))[1] as close_price,
            sum(price_sum order by bucket_start) as price_sum,
            (array_agg(market_cap order by bucket_start desc))[1] as market_cap,
            (array_agg(market_cap_rank order by bucket_start desc))[1] as market_cap_rank,
            (array_agg(volume_24h order by bucket_start desc))[1] as volume_24h,
            sum(snapshot_count) as snapshot_count,
            min(first_observed_at) as first_observed_at,
            max(last_observed_at) as last_observed_at,
            max(last_loaded_at) as last_loaded_at
{%- endmacro %}

{#- The columns a period model (hourly, daily) stores, selected from its aggregates: the average is the
    ordered price sum over the snapshot count, in every path, so both models compute it alike. -#}
{% macro period_columns() -%}
    coin_id,
    bucket_start,
    open_price,
    high_price,
    low_price,
    close_price,
    price_sum / snapshot_count as avg_price,
    price_sum,
    market_cap,
    market_cap_rank,
    volume_24h,
    snapshot_count,
    first_observed_at,
    last_observed_at,
    last_loaded_at
{%- endmacro %}

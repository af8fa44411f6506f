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

{#- The columns the snapshot period model (int_coin_prices__hourly) stores, selected from its
    aggregates: the average is the ordered price sum over the snapshot count, in every path. -#}
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

{#- One period from history points (stg_coingecko__history_points rows, each with the
    finest_resolution_s of its period): the points of that resolution only, summed in time order in
    every path. last_loaded_at counts every point of the period, so a coarser point loaded later
    still marks the period touched (it is rebuilt unchanged). -#}
{% macro history_period_aggregates() -%}
            (array_agg(price order by observed_at) filter (where resolution_s = finest_resolution_s))[1] as open_price,
            max(price) filter (where resolution_s = finest_resolution_s) as high_price,
            min(price) filter (where resolution_s = finest_resolution_s) as low_price,
            (array_agg(price order by observed_at desc) filter (where resolution_s = finest_resolution_s))[1] as close_price,
            sum(price order by observed_at) filter (where resolution_s = finest_resolution_s) as price_sum,
            (array_agg(market_cap order by observed_at desc) filter (where resolution_s = finest_resolution_s))[1] as market_cap,
            (array_agg(volume_24h order by observed_at desc) filter (where resolution_s = finest_resolution_s))[1] as volume_24h,
            count(*) filter (where resolution_s = finest_resolution_s) as point_count,
            min(resolution_s) as resolution_s,
            min(observed_at) filter (where resolution_s = finest_resolution_s) as first_observed_at,
            max(observed_at) filter (where resolution_s = finest_resolution_s) as last_observed_at,
            max(loaded_at) as last_loaded_at
{%- endmacro %}

{#- The columns a history period model stores (the average as price_sum / point_count, as the
    snapshot models compute theirs). -#}
{% macro history_period_columns() -%}
    coin_id,
    bucket_start,
    open_price,
    high_price,
    low_price,
    close_price,
    price_sum / point_count as avg_price,
    price_sum,
    market_cap,
    volume_24h,
    point_count,
    resolution_s,
    first_observed_at,
    last_observed_at,
    last_loaded_at
{%- endmacro %}

{#
    The watermarks of the incremental models. Each reads the newest value the model already holds
    ({{ this }}) in a subquery, so Postgres plans the query before it knows the watermark: alone,
    `column >= (subquery)` is estimated to keep a third of the table and the table is scanned in full.
    Paired with an upper bound (`column <= 'infinity'`) it is estimated as a narrow range, so the
    column's index is used (raw's loaded_at btree, the models' last_loaded_at / bucket_start indexes);
    on raw's partition key it also prunes partitions when the run starts.

    Plain Jinja that dbt-core and the bundled runner (nunjucks) both render: no dispatch, no
    run_query, no `execute`. Callers use them only inside `{% if is_incremental() %}`.
#}

{#- Rows loaded (or rebuilt) since the last run. Runs of the transform worker pass loaded_after, the
    load barrier its last successful run passed: every row loaded up to it was read by that run, every
    row loaded later has a later `column` (core/snapshots/load-barrier.ts), so the bound is exact.
    Without it (dbt run by hand): `column` at or after the newest `watermark` the model holds, minus
    loaded_lookback_minutes for load transactions that committed late. -#}
{% macro loaded_since_last_run(column, watermark='last_loaded_at') -%}
    {%- if var('loaded_after') %}
    {{ column }} > '{{ var("loaded_after") }}'::timestamptz
    {%- else %}
    {{ column }} >= (
        select coalesce(max({{ watermark }}), '-infinity'::timestamptz) - interval '{{ var("loaded_lookback_minutes") }} minutes'
        from {{ this }}
    )
    {%- endif %}
    and {{ column }} <= 'infinity'::timestamptz
{%- endmacro %}

{#- Start of the look-back window: lookback_hours (plus `extra_hours`) before the newest
    `watermark` (a bucket_start) the model holds. A scalar subquery. -#}
{% macro lookback_window_start(watermark='bucket_start', extra_hours=0) -%}
    (
        select coalesce(max({{ watermark }}), '-infinity'::timestamptz) - interval '{{ var("lookback_hours") | int + extra_hours }} hours'
        from {{ this }}
    )
{%- endmacro %}

{#- Rows whose `column` lies in the look-back window (from lookback_window_start on). -#}
{% macro in_lookback_window(column, watermark='bucket_start', extra_hours=0) -%}
    {{ column }} >= {{ lookback_window_start(watermark, extra_hours) }}
    and {{ column }} <= 'infinity'::timestamptz
{%- endmacro %}

{#- The first hour holding a live candle of `candles` (a ref to fct_coin_candles_hourly) rebuilt since
    the last run, 'infinity' when none: hours before it hold no new or changed candle, so nothing built
    from candles alone changes there. Only meaningful with loaded_after (the worker's runs): candles
    carry last_loaded_at, models downstream of them do not, so a hand-run dbt has no watermark to
    compare with and the callers keep their whole look-back window then. A late snapshot moves it back
    for one run (slower, never wrong). It keeps a run's reads to the hours that changed (usually the
    newest) instead of the lookback_hours window, which a new deployment does not fill yet: that is
    what made a tick after a day of history cost more than after an hour. -#}
{% macro first_rebuilt_candle_hour(candles) -%}
    (
        select coalesce(min(bucket_start), 'infinity'::timestamptz)
        from {{ candles }}
        where source = 'snapshots'
          and {{ loaded_since_last_run('last_loaded_at') }}
    )
{%- endmacro %}

{#- Rows whose `column` (an hour) lies in the look-back window (lookback_window_start, plus
    `extra_hours`) and, in the worker's runs, at or after first_rebuilt_candle_hour minus `extra_hours`:
    one range with the greater start, paired with an upper bound, so Postgres estimates it as it does
    in_lookback_window (two such ranges ANDed were estimated at one row, and the plan joined the
    recent returns to each other in a nested loop: 2.25M comparisons for 1,500 coins).
    changed_window_start alone is its start, for filters on rows already read (a CTE), where an
    upper bound would again make the estimate one row. -#}
{% macro changed_window_start(candles, extra_hours=0) -%}
    {%- if var('loaded_after') -%}
    greatest(
        {{ lookback_window_start(extra_hours=extra_hours) }},
        {{ first_rebuilt_candle_hour(candles) }} - interval '{{ extra_hours }} hours'
    )
    {%- else -%}
    {{ lookback_window_start(extra_hours=extra_hours) }}
    {%- endif -%}
{%- endmacro %}

{% macro in_changed_window(column, candles, extra_hours=0) -%}
    {{ column }} >= {{ changed_window_start(candles, extra_hours) }}
    and {{ column }} <= 'infinity'::timestamptz
{%- endmacro %}

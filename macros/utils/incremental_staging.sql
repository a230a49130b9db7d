{#- Incremental staging of the big event feeds (orders, order lines, shipments, returns,
    sessions, page views).

    A staging table holds, per key, the version in force as of the run's as_of_date. Each run
    re-picks it only for the keys that may have changed since the table was last written:

    - keys with a row in a load newer than the newest load in the table (`_load_id`), and
    - keys with a row dated (event or version time) on or after the previous run's cutoff: a
      future-dated row, or a version not yet in force, that tonight's later as_of_date may let in.

    The model's pre-hook deletes those keys from the table; the model selects their versions in
    force again from every raw row of those keys, and the rows are appended. A run for an
    earlier as_of_date than the table's (`_staged_as_of`) rebuilds the table from all of raw, as
    does `--full-refresh`. So the table is always what a full rebuild as of the run's date gives,
    at the cost of the new rows, not of the history. -#}

{#- Per feed: the key of the staging table, and the raw columns whose dates decide what is in
    force as of a date (the event time filtered on, version times, and any other as-of dated
    column such as delivered_at). -#}
{% macro incremental_staging_feed(feed) -%}
    {%- set feeds = {
        'orders': {'keys': ['order_id'], 'times': ['ordered_at', 'updated_at']},
        'order_lines': {'keys': ['order_id', 'line_number'], 'times': ['updated_at']},
        'shipments': {'keys': ['shipment_id'], 'times': ['shipped_at', 'delivered_at', 'updated_at']},
        'returns': {'keys': ['return_id'], 'times': ['returned_at', 'updated_at']},
        'sessions': {'keys': ['session_id'], 'times': ['started_at', 'updated_at']},
        'page_views': {'keys': ['session_id', 'viewed_at', 'page_url'], 'times': ['viewed_at']},
    } -%}
    {{ return(feeds[feed]) }}
{%- endmacro %}

{#- The newest load (column `_load_id`, or the model's `watermark_load_column` config) and the
    as_of_date of the rows in this staging table; none when there is
    no table to add to (first run, --full-refresh), it is empty or lacks those columns, or (for
    a model with a `rules_vars` or `rules_models` config) some row was computed with other
    rules. -#}
{% macro staging_watermark() -%}
    {#- (a dbt unit test of the model has no relation: it always tests the full build) -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set load_column = config.get('watermark_load_column', '_load_id') -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if load_column not in columns or '_staged_as_of' not in columns -%}
        {#- a table written before this model was incremental: rebuild -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query('select max(' ~ load_column ~ '), max(_staged_as_of) from ' ~ this) -%}
    {%- set load_id, staged_as_of = found.rows[0][0], found.rows[0][1] -%}
    {%- if load_id is none or staged_as_of is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if staged_as_of | string > as_of_date_value() -%}
        {#- an earlier business date than the table's: rebuild from all of raw -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set has_rules = config.get('rules_vars') is not none or config.get('rules_models') is not none -%}
    {%- if has_rules and not rules_unchanged() -%}
        {#- rows computed with other rules (see rules_fingerprint): rebuild -#}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'load_id': load_id, 'as_of': staged_as_of | string}) }}
{%- endmacro %}

{#- True when this run adds to the staging table rather than rebuilding it. -#}
{% macro is_incremental_staging() -%}
    {{ return(staging_watermark() is not none) }}
{%- endmacro %}

{#- The keys of the feed's raw table that may have changed since the watermark (a subquery):
    those of the loads after it, and those of rows dated after its as_of_date (loaded earlier,
    in force only now). One `select` per condition, `union`ed: each condition alone skips the
    raw files and row groups whose statistics rule it out (every raw file holds one load, in
    time order), where one `or` of the two read every row. -#}
{% macro staging_changed_keys(feed, watermark) -%}
    {%- set spec = incremental_staging_feed(feed) -%}
    select {{ spec['keys'] | join(', ') }}
    from {{ source('shop', feed) }}
    where _load_id > {{ watermark['load_id'] }}
    {%- for column in spec['times'] %}
    union
    select {{ spec['keys'] | join(', ') }}
    from {{ source('shop', feed) }}
    where {{ column }} >= cast({{ dbt.dateadd('day', 1, "cast('" ~ watermark['as_of'] ~ "' as date)") }} as {{ dbt.type_timestamp() }})
    {%- endfor %}
{%- endmacro %}

{#- `exists (...)`: the row of `relation` has a changed key. A time column of the key (a page
    view's viewed_at) also bounds the rows from below by the earliest changed key's: a plain
    comparison that spares most rows the lookup of their whole key (and, on raw, whose rows
    arrive in time order, lets zone maps skip them). -#}
{% macro staging_key_changed(feed, watermark, relation) -%}
    {%- set spec = incremental_staging_feed(feed) -%}
    exists (
        select 1
        from ({{ staging_changed_keys(feed, watermark) }}) as changed
        where
            {%- for key in spec['keys'] %}
            {% if not loop.first %}and {% endif %}changed.{{ key }} = {{ relation }}.{{ key }}
            {%- endfor %}
    )
    {%- for key in spec['keys'] if key in spec['times'] %}
    and {{ relation }}.{{ key }} >= (
        select min(changed_times.{{ key }})
        from ({{ staging_changed_keys(feed, watermark) }}) as changed_times
    )
    {%- endfor -%}
{%- endmacro %}

{#- The source CTE's query: the raw rows of the changed keys (all rows when rebuilding). -#}
{% macro staging_source(feed) -%}
    {%- set watermark = staging_watermark() -%}
    select * from {{ source('shop', feed) }} as source_rows
    {%- if watermark is not none %}
    where {{ staging_key_changed(feed, watermark, 'source_rows') }}
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook: remove the changed keys (or every row, when rebuilding in place). -#}
{% macro staging_pre_hook(feed) -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is not none -%}
    delete from {{ this }}
    where {{ staging_key_changed(feed, watermark, this) }}
    {%- elif is_incremental() -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

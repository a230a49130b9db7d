{#- Generic test: every key written by this run (rows where `written_this_run()`) appears once
    in the whole table. `columns` for a key of several columns, else the tested column.

    Keys kept from earlier runs were checked when they were written, so a nightly run checks
    its new rows against the table (the rows whose key hash is among the new keys' hashes)
    instead of grouping every row of the history. When every row was written by this run (a
    full build) it is the whole-table check of `unique_combination`. Both go through a hash of
    the key first (`macros/utils/duplicate_keys.sql`). `time_column`, a column of the key that
    the written rows have recent values of (a page view's viewed_at), bounds the table's rows
    compared from below: a cheap comparison before the hash lookup. -#}
{% test unique_keys_written(model, column_name=none, columns=none, time_column=none) %}
    {%- set keys = columns if columns else [column_name] -%}
    {%- set kept_rows = 0 -%}
    {#- (only when the test runs: `dbt compile` and `dbt docs generate` may find no table) -#}
    {%- if execute and flags.WHICH in ['build', 'test'] -%}
        {%- set counted = run_query(
            'select count(*) from ' ~ model ~ ' where not (' ~ written_this_run() ~ ')'
        ) -%}
        {%- set kept_rows = counted.rows[0][0] -%}
    {%- endif %}
    {%- if kept_rows == 0 %}
    {{ duplicate_keys(model, keys) }}
    {%- else %}
    {%- set written_hashes -%}
        select {{ key_hash(keys) }} from {{ model }} where {{ written_this_run() }}
    {%- endset -%}
    {%- set candidate_filter -%}
        {{ key_hash(keys) }} in ({{ written_hashes }})
        {%- if time_column %}
        and {{ time_column }} >= (
            select min({{ time_column }}) from {{ model }} where {{ written_this_run() }}
        )
        {%- endif %}
    {%- endset %}
    {{ duplicate_keys(model, keys, candidate_filter) }}
    {%- endif %}
{% endtest %}

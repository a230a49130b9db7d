{#- Generic test: every key written by this run (rows where `written_this_run()`) appears once
    in the whole table. `columns` for a key of several columns, else the tested column.

    Keys kept from earlier runs were checked when they were written, so a nightly run checks
    its new rows against the table (a semi-join on the new keys) instead of grouping every row
    of the history. When every row was written by this run (a full build) it is the plain
    group-by of `unique_combination`. `time_column`, a column of the key that the written rows
    have recent values of (a page view's viewed_at), bounds the table's rows compared from
    below: a cheap comparison before the lookup of the whole key. -#}
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
    select
        {{ keys | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ keys | join(', ') }}
    having count(*) > 1
    {%- else %}
    with written_keys as (
        select distinct {{ keys | join(', ') }}
        from {{ model }}
        where {{ written_this_run() }}
    )

    select
        {%- for key in keys %}
        table_rows.{{ key }},
        {%- endfor %}
        count(*) as occurrences
    from {{ model }} as table_rows
    inner join written_keys
        on
        {%- for key in keys %}
        {% if not loop.first %}and {% endif %}table_rows.{{ key }} = written_keys.{{ key }}
        {%- endfor %}
    {%- if time_column %}
    where table_rows.{{ time_column }} >= (select min(written_keys.{{ time_column }}) from written_keys)
    {%- endif %}
    group by
        {%- for key in keys %}
        table_rows.{{ key }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    having count(*) > 1
    {%- endif %}
{% endtest %}

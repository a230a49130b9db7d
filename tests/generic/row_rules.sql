{#- Generic test: the row-level rules of a model's columns, checked in one scan (one aggregate
    row, one count per rule), where a dbt test per column and rule would scan the model once
    each and add a node each:

    - `not_null`: columns that are never null;
    - `accepted_values`: {column: [values]}, the values a non-null cell may take;
    - `ranges`: {column: [min, max]}, inclusive bounds of a non-null cell.

    Returns a row per broken rule (`column_name`, `rule`, `failing_rows`); the failure count is
    the number of failing cells. `where` (the test config) scopes it, as for any dbt test. -#}
{% test row_rules(model, not_null=[], accepted_values={}, ranges={}) %}
    {{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
    {%- set rules = [] -%}
    {%- for column in not_null -%}
        {%- do rules.append((column, 'not_null', 'count(*) - count(' ~ column ~ ')')) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- do quoted.append(value if value is number else dbt.string_literal(value)) -%}
        {%- endfor -%}
        {%- do rules.append((column, 'accepted_values',
            'sum(case when ' ~ column ~ ' not in (' ~ quoted | join(', ') ~ ') then 1 else 0 end)')) -%}
    {%- endfor -%}
    {%- for column, bounds in ranges.items() -%}
        {%- do rules.append((column, 'range',
            'sum(case when ' ~ column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1]
            ~ ' then 1 else 0 end)')) -%}
    {%- endfor %}
    with

    counted as (
        select
            {%- for column, rule, expression in rules %}
            {{ expression }} as failing_{{ loop.index }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ model }}
    ),

    per_rule as (
        {%- for column, rule, expression in rules %}
        select
            '{{ column }}' as column_name,
            '{{ rule }}' as rule,
            coalesce(failing_{{ loop.index }}, 0) as failing_rows
        from counted
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    )

    select * from per_rule
    where failing_rows > 0
{% endtest %}

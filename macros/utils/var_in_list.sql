{#- A list var (a YAML list, or a comma-separated string) as a parenthesised list of SQL
    string literals for `in`, e.g. ('lapsed', 'lapsed_loyal'). An empty list matches nothing. -#}
{% macro var_in_list(name, default=[]) -%}
    {%- set value = var(name, default) -%}
    {%- if value is string -%}
        {%- set value = value.replace('[', '').replace(']', '').split(',') -%}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for item in value -%}
        {%- set text = item | string | trim -%}
        {%- if text -%}
            {%- do literals.append(dbt.string_literal(dbt.escape_single_quotes(text))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if literals | length == 0 -%}
        (null)
    {%- else -%}
        ({{ literals | join(', ') }})
    {%- endif -%}
{%- endmacro %}

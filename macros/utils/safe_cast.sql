{#- dbt's safe_cast is a plain cast on DuckDB; a safe cast must yield null, not fail. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

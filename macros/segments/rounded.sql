{#- `expression` rounded to `digits` decimals, as a numeric (rounds through numeric, which
    every warehouse can round; Postgres cannot round a double to n places). -#}
{% macro rounded(expression, digits) -%}
    round(cast({{ expression }} as {{ dbt.type_numeric() }}), {{ digits }})
{%- endmacro %}

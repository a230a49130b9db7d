{#- A struct of the named columns (`struct_of(['a', 'b'])`), read back as `<struct>.a`: what
    `max_by` picks from and orders by when "the latest row" has several columns (a hash
    aggregate where a `row_number()` would sort). `struct_pack` on DuckDB, `named_struct` on
    Spark. -#}
{% macro struct_of(columns) -%}
    {{ return(adapter.dispatch('struct_of', 'crm_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__struct_of(columns) -%}
    named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{%- endmacro %}

{% macro duckdb__struct_of(columns) -%}
    struct_pack(
        {%- for column in columns %}{{ column }} := {{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{%- endmacro %}

{#- The text value of the top-level member `key` of a JSON object held as text (null when the
    object or the member is missing). Dispatched: each warehouse spells it differently. -#}
{% macro json_text(expression, key) -%}
    {{ return(adapter.dispatch('json_text')(expression, key)) }}
{%- endmacro %}

{% macro default__json_text(expression, key) -%}
    get_json_object({{ expression }}, '$.{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(expression, key) -%}
    json_extract_string({{ expression }}, '$."{{ key }}"')
{%- endmacro %}

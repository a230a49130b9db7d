{#- A numeric var, checked before it is written into SQL: a plain non-negative number between
    `min_value` and `max_value` (inclusive; none = unbounded), else a compile error naming the
    var. Whole numbers come back as int (so `30` stays `30` in SQL), others as float. Use it
    for every threshold a shop may change, so a typo or a stray quote in a var can never end
    up as SQL. -#}
{% macro number_var(name, default=none, min_value=none, max_value=none) -%}
    {%- set raw = var(name, default) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- set raw = default -%}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.match('^[0-9]+(\\.[0-9]+)?$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a non-negative number, got '" ~ raw ~ "'") }}
    {%- endif -%}
    {%- set value = text | float -%}
    {%- if (min_value is not none and value < min_value) or (max_value is not none and value > max_value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be between " ~ min_value ~ " and " ~ max_value ~ ", got " ~ value
        ) }}
    {%- endif -%}
    {%- if value == (value | int) -%}
        {{ return(value | int) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- A text var as a quoted SQL string literal (quotes escaped), for comparing with codes. -#}
{% macro string_var_literal(name, default=none) -%}
    {{ return(dbt.string_literal(dbt.escape_single_quotes(var(name, default) | string | trim))) }}
{%- endmacro %}

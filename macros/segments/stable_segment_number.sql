{#- A numeric var of the six-month-stable segments, checked: a number between `min_value` and
    `max_value` (inclusive; none = unbounded). Returns it as a float. -#}
{% macro stable_segment_number(name, default, min_value=none, max_value=none) -%}
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
    {{ return(value) }}
{%- endmacro %}

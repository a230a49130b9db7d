{#- The months in which a six-month-stable segment term starts (var
    `stable_segment_term_start_months`, default [4, 10]): a sorted list of distinct whole
    numbers 1-12. Accepts a list or a comma-separated string ("4,10"). -#}
{% macro stable_segment_term_start_months() -%}
    {%- set value = var('stable_segment_term_start_months', [4, 10]) -%}
    {%- if value is string -%}
        {%- set value = value.replace('[', '').replace(']', '').split(',') -%}
    {%- elif value is number -%}
        {%- set value = [value] -%}
    {%- endif -%}
    {%- set months = [] -%}
    {%- for item in value -%}
        {%- set text = item | string | trim -%}
        {%- if not text.isdigit() or (text | int) < 1 or (text | int) > 12 -%}
            {{ exceptions.raise_compiler_error(
                "stable_segment_term_start_months must list months 1-12, got '" ~ value ~ "'"
            ) }}
        {%- endif -%}
        {%- if (text | int) not in months -%}
            {%- do months.append(text | int) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if months | length == 0 -%}
        {{ exceptions.raise_compiler_error("stable_segment_term_start_months must not be empty") }}
    {%- endif -%}
    {{ return(months | sort) }}
{%- endmacro %}

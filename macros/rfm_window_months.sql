{#- The optional RFM window in months (var `rfm_window_months`): F and M count only the
    purchases of the last N calendar months up to the snapshot (the snapshot's month included).
    Empty (the default) = the whole history. -#}
{% macro rfm_window_months() -%}
    {%- set value = var('rfm_window_months', none) -%}
    {%- if value in (none, '', 0, '0') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not (value | string).isdigit() -%}
        {{ exceptions.raise_compiler_error("rfm_window_months must be a whole number of months, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}

{#- True when `value` lies in the band of a reference row: lower bound inclusive, upper bound
    exclusive, an empty bound open. Every band seed uses this one rule. -#}
{% macro in_band(value, band, lower_column='lower_bound', upper_column='upper_bound') -%}
    (
        ({{ band }}.{{ lower_column }} is null or {{ value }} >= {{ band }}.{{ lower_column }})
        and ({{ band }}.{{ upper_column }} is null or {{ value }} < {{ band }}.{{ upper_column }})
    )
{%- endmacro %}

{#- `expression` with full-width digits (０-９) turned into ASCII digits, as Japanese forms often
    deliver them. Nested replace(): portable to every warehouse. -#}
{% macro half_width_digits(expression) -%}
    {%- set full_width = '０１２３４５６７８９' -%}
    {%- set ns = namespace(sql=expression) -%}
    {%- for digit in range(10) -%}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '" ~ full_width[digit] ~ "', '" ~ digit ~ "')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}

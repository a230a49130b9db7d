{#- Models go to the plain schema named in dbt_project.yml (staging, intermediate, marts,
    reference), not "<target schema>_<name>": BI tools and exports rely on `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

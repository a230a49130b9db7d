{#- The export history: one row per customer per audience, channel and export date, written by
    the Python exporter (exported and held-out customers alike) and read by
    marts.audience_response as the source exports.export_history. Run on every dbt invocation
    (on-run-start) so that the source exists before the first export: creates the schema and
    an empty table when missing, never touches an existing one. -#}
{% macro create_export_history() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = api.Relation.create(
        database=target.database,
        schema='exports',
        identifier='export_history',
        type='table'
    ) -%}
    {%- do adapter.create_schema(relation) -%}
    {{ return(adapter.dispatch('create_export_history_sql')(relation)) }}
{%- endmacro %}

{% macro default__create_export_history_sql(relation) -%}
    create table if not exists {{ relation }} (
        {{ adapter.quote('audience') }} {{ dbt.type_string() }},
        {{ adapter.quote('channel') }} {{ dbt.type_string() }},
        {{ adapter.quote('customer_id') }} {{ dbt.type_string() }},
        {{ adapter.quote('export_date') }} date,
        {{ adapter.quote('is_holdout') }} {{ dbt.type_boolean() }},
        {{ adapter.quote('file_name') }} {{ dbt.type_string() }}
    )
{%- endmacro %}

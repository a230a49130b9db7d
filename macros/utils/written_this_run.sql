{#- Data tests scoped to the rows a run wrote.

    The incremental tables (`macros/utils/incremental_staging.sql`, the web models) stamp every
    row they write with the run's as_of_date in `_staged_as_of`; rows kept from earlier runs
    keep theirs. A run that rewrites a whole table (first run, --full-refresh, a rule change,
    an earlier as_of_date) stamps every row. -#}

{#- The rows written by this run (a predicate on the tested table). -#}
{% macro written_this_run() -%}
    _staged_as_of = {{ as_of_date() }}
{%- endmacro %}

{#- dbt's `where` test config, plus the placeholder `__written_this_run__` for
    `written_this_run()` (the `where` config of a .yml file cannot call project macros; this is
    the override dbt documents for that). A relationships test with
    `where: "__written_this_run__"` checks the child rows written tonight against the whole
    parent table. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace('__written_this_run__', written_this_run()) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The run's business date. Order of precedence: the `as_of_date` var, the CRM_AS_OF_DATE
    environment variable (the nightly run sets it), today in Asia/Tokyo. Always YYYY-MM-DD.

    Read only when dbt executes, not while it parses: a value dbt sees while parsing is part of
    what its partial parsing compares, and a new date every night would make every nightly run
    parse the whole project again (about 15 s). So the nightly run passes the date in the
    environment, not as `--vars` (any change of `--vars` means a full parse too). -#}
{% macro as_of_date_value() -%}
    {%- if not execute -%}
        {{- return('2000-01-01') -}}
    {%- endif -%}
    {%- set value = var('as_of_date', '') or env_var('CRM_AS_OF_DATE', '') -%}
    {%- if not value -%}
        {%- set value = modules.datetime.datetime.now(modules.pytz.timezone('Asia/Tokyo')).date().isoformat() -%}
    {%- endif -%}
    {%- set value = value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("as_of_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}

{#- as_of_date as a SQL date literal. -#}
{% macro as_of_date() -%}
    cast('{{ as_of_date_value() }}' as date)
{%- endmacro %}

{#- The first instant after as_of_date (JST): events at or after it are in the future. -#}
{% macro as_of_cutoff() -%}
    cast({{ dbt.dateadd('day', 1, as_of_date()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

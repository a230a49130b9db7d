{#- The run's business date. Order of precedence: the `as_of_date` var (the nightly run sets it),
    the CRM_AS_OF_DATE environment variable, today in Asia/Tokyo. Always YYYY-MM-DD. -#}
{% macro as_of_date_value() -%}
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

{#- A relation (subquery) with one row per month end, column `month_end` (date), for every
    month end from the month of `start_date` up to `end_date` (inclusive). -#}
{% macro month_ends(start_date, end_date) -%}
    {{ return(adapter.dispatch('month_ends')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__month_ends(start_date, end_date) -%}
    (
        with recursive months (month_start) as (
            select {{ dbt.date_trunc('month', start_date) }}
            union all
            select {{ dbt.dateadd('month', 1, 'month_start') }}
            from months
            where {{ dbt.dateadd('month', 1, 'month_start') }} <= {{ end_date }}
        )
        select cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end
        from months
        where {{ dbt.last_day('month_start', 'month') }} <= {{ end_date }}
    )
{%- endmacro %}

{% macro duckdb__month_ends(start_date, end_date) -%}
    (
        select cast(last_day(month_start) as date) as month_end
        from (
            select unnest(generate_series(
                cast(date_trunc('month', {{ start_date }}) as date),
                cast({{ end_date }} as date),
                interval 1 month
            )) as month_start
        ) as months
        where last_day(month_start) <= {{ end_date }}
    )
{%- endmacro %}

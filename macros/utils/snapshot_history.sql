{#- Incremental history tables written once per snapshot date (customer_rfm_history).

    Past snapshot dates (complete month ends) are final: the month-end snapshots they are
    computed from are written once (int_customer_months_snapshotted). So an incremental run keeps
    those rows and computes only the snapshot dates not in the table: a new month end, and the
    run's as_of_date. Before it, the pre-hook deletes the rows that are not final:

    - the rows of an earlier run's as_of_date (`is_as_of_date`),
    - rows dated on or after the run's as_of_date (a run for an earlier date), and
    - rows computed with other rules: every row stores a fingerprint (`_rules_fingerprint`) of
      the model's SQL, the seeds it reads and the vars that shape it. Editing a band seed, the
      group map or `rfm_axes` therefore recomputes the whole history on the next run, as a
      full refresh would.

    A change upstream of the snapshots (or in a macro) needs `--full-refresh`, as for every
    incremental model. -#}

{#- True when the run adds to the table (a dbt unit test of the model has no relation: it always
    tests the full build). -#}
{% macro is_incremental_history() -%}
    {{ return(execute and this is not none and is_incremental()) }}
{%- endmacro %}

{#- The pre-hook: delete the rows that are not final (see above); every row when the table
    predates the fingerprint column. -#}
{% macro snapshot_history_pre_hook() -%}
    {%- if is_incremental_history() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        delete from {{ this }}
        {%- if '_rules_fingerprint' in columns %}
        where
            is_as_of_date
            or snapshot_date >= {{ as_of_date() }}
            or _rules_fingerprint <> '{{ rules_fingerprint() }}'
            or _rules_fingerprint is null
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The model's filter: only the snapshot dates the table will not hold once the pre-hook ran
    (a new month end, the as_of_date, every date after a change of the rules), out of the dates
    of `snapshots` (the month-end snapshots) and the as_of_date. The dates are looked up when the
    model runs and written as literals, so that the filter reaches the scan of the snapshots
    (and its zone maps) through the view that unions them with today's values; a `not in`
    subquery would not, and every run would read the whole history. -#}
{% macro snapshot_dates_not_written(snapshots) -%}
    {%- if is_incremental_history() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- set kept -%}
            {%- if '_rules_fingerprint' in columns -%}
            select snapshot_date from {{ this }}
            where
                not is_as_of_date
                and snapshot_date < {{ as_of_date() }}
                and _rules_fingerprint = '{{ rules_fingerprint() }}'
            {%- else -%}
            select snapshot_date from {{ this }} where false
            {%- endif -%}
        {%- endset -%}
        {%- set missing -%}
            select distinct snapshot_date
            from (
                select snapshot_date from {{ snapshots }} where snapshot_date < {{ as_of_date() }}
                union all
                select {{ as_of_date() }} as snapshot_date
            ) as dates
            where snapshot_date not in ({{ kept }})
            order by snapshot_date
        {%- endset -%}
        {%- set dates = run_query(missing).columns[0].values() -%}
        where snapshot_date in (
            {%- for day in dates %}cast('{{ day }}' as date){% if not loop.last %}, {% endif %}{% endfor -%}
            {%- if not dates %}null{% endif -%}
        )
    {%- endif -%}
{%- endmacro %}

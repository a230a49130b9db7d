{#- Incremental segment-term models (int_customer_terms_profiled, int_customer_terms_segmented).

    Both are computed per term start, and a term's rows depend only on events dated before it
    (orders ordered, shipments shipped and refunds returned before the term start) and, for the
    segment rules, on the other customers of the same term. So a run keeps every term its new
    data cannot change and recomputes the others whole:

    - int_customer_terms_profiled: the pre-hook deletes the terms that start after the earliest
      date tonight's changed rows (every raw version of the keys incremental staging re-picks,
      macros/utils/incremental_staging.sql) carry: an order's order date (for the order and its
      lines), a shipment's ship date, a refund's return date. Also the terms that no longer
      exist. The model then computes the terms not in the table: those, and a new term. Most
      nights tonight's rows are dated after the current term's start, and no term is computed.
    - int_customer_terms_segmented: the pre-hook deletes the terms whose profiles were written
      by another run than the one it segmented (each profile row stores the start of the dbt
      run that wrote it, `_profiled_at`), and the model segments the terms not in the table.

    A change of the rules (the model's SQL, the seeds it reads, the vars of its `rules_vars`, the
    models of its `rules_models`; macros/utils/rules_fingerprint.sql), a run for an earlier
    as_of_date, the first run and `--full-refresh` recompute every term. -#}

{#- The earliest date from which tonight's changed rows can change a profile (a scalar subquery,
    null when nothing changed): a term that starts after it is recomputed. -#}
{% macro segment_changes_since(watermark) -%}
    (
        select min(changed_date) from (
            select cast(ordered_at as date) as changed_date
            from {{ source('shop', 'orders') }}
            where order_id in (
                select order_id from ({{ staging_changed_keys('orders', watermark) }}) as orders_changed
                union
                select order_id from ({{ staging_changed_keys('order_lines', watermark) }}) as lines_changed
            )
            union all
            select cast(shipped_at as date) as changed_date
            from {{ source('shop', 'shipments') }}
            where shipment_id in (
                select shipment_id from ({{ staging_changed_keys('shipments', watermark) }}) as shipments_changed
            )
            union all
            select cast(returned_at as date) as changed_date
            from {{ source('shop', 'returns') }}
            where return_id in (
                select return_id from ({{ staging_changed_keys('returns', watermark) }}) as returns_changed
            )
        ) as changes
    )
{%- endmacro %}

{#- The pre-hook of int_customer_terms_profiled: delete the terms tonight's rows can change and
    the terms that no longer exist (every row when rebuilding). -#}
{% macro profiled_terms_pre_hook() -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is not none -%}
    delete from {{ this }}
    where
        term_start > {{ segment_changes_since(watermark) }}
        or term_start not in (select term_start from {{ ref('int_segment_terms_generated') }})
    {%- elif is_incremental() -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook of int_customer_terms_segmented: delete the terms whose profiles another run
    wrote than the one segmented, and every row after a change of the rules or of the table's
    columns. -#}
{% macro segmented_terms_pre_hook(profiles) -%}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    delete from {{ this }}
        {%- if '_profiled_at' in columns and '_rules_fingerprint' in columns %}
    where
        _rules_fingerprint is null
        or _rules_fingerprint <> '{{ rules_fingerprint() }}'
        or term_start not in (
            select profiled.term_start
            from (
                select term_start, max(_profiled_at) as profiled_at
                from {{ profiles }}
                group by term_start
            ) as profiled
            inner join (
                select term_start, max(_profiled_at) as profiled_at
                from {{ this }}
                group by term_start
            ) as segmented
                on
                    profiled.term_start = segmented.term_start
                    and profiled.profiled_at = segmented.profiled_at
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- `where`-clause of the terms an incremental term model computes: those not in the table
    (after its pre-hook); nothing when rebuilding. -#}
{% macro terms_not_written(column='term_start') -%}
    {%- if execute and this is not none and is_incremental() -%}
        where {{ column }} not in (select distinct term_start from {{ this }})
    {%- endif -%}
{%- endmacro %}

{#- The start of this dbt run, stored as `_profiled_at` on the rows it writes. -#}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The pre-hook of an incremental model that merges its new rows by key (`delete+insert`): every
    row goes when it rebuilds (first run with a table, a rule change, an earlier as_of_date). -#}
{% macro rebuild_pre_hook() -%}
    {%- if is_incremental() and staging_watermark() is none -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The pre-hook of an incremental model that recomputes only touched rows (the web models,
    int_orders_enriched): delete the rows matching `touched`, the filter the model selects its
    rows with (`true` when rebuilding: every row goes). Nothing on the first run. -#}
{% macro touched_rows_pre_hook(touched) -%}
    {%- if staging_watermark() is not none or is_incremental() -%}
        delete from {{ this }} where {{ touched }}
    {%- endif -%}
{%- endmacro %}

{#- The orders tonight's staged rows can change since `watermark` (a subquery of order_id): the
    orders incremental staging re-picks and the orders of the order lines, shipments and returns
    it re-picks (of every raw version: a shipment moved to another order touches both); with
    `with_fulfilment` false, only the orders and order lines re-picked. -#}
{% macro touched_order_ids(watermark, with_fulfilment=true) -%}
    select order_id from ({{ staging_changed_keys('orders', watermark) }}) as orders_changed
    union
    select order_id from ({{ staging_changed_keys('order_lines', watermark) }}) as lines_changed
    {%- for feed, key in ([('shipments', 'shipment_id'), ('returns', 'return_id')] if with_fulfilment else []) %}
    union
    select order_id
    from {{ source('shop', feed) }}
    where {{ key }} in (
        select {{ key }} from ({{ staging_changed_keys(feed, watermark) }}) as {{ feed }}_changed
    )
    {%- endfor %}
{%- endmacro %}

{#- `and`-able filter on order_id for int_orders_enriched and int_segment_orders_scoped: the
    touched orders (touched_order_ids); true when rebuilding. -#}
{% macro orders_touched() -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is none -%}
        true
    {%- else -%}
        order_id in ({{ touched_order_ids(watermark) }})
    {%- endif -%}
{%- endmacro %}

{#- `and`-able filter on `column` (a customer_id) for the per-customer sales models: the
    customers on any raw version of a touched order (an order moved to another customer touches
    both, named as staging names them); true when rebuilding. -#}
{% macro customers_touched(column='customer_id') -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is none -%}
        true
    {%- else -%}
        {{ column }} in (
            select nullif(trim(touched_orders.customer_id), '')
            from {{ source('shop', 'orders') }} as touched_orders
            where touched_orders.order_id in ({{ touched_order_ids(watermark) }})
        )
    {%- endif -%}
{%- endmacro %}

{#- The metadata columns of an incremental sales model (see staging_watermark): the newest load
    `watermark_relation` was built from, the run's as_of_date and the rules fingerprint. -#}
{% macro touched_metadata_columns(watermark_relation) -%}
    (
        select max(watermarks._watermark_load_id)
        from {{ watermark_relation }} as watermarks
    ) as _watermark_load_id,
    {{ as_of_date() }} as _staged_as_of,
    '{{ rules_fingerprint() }}' as _rules_fingerprint
{%- endmacro %}

{#- The config of a per-customer sales model incremental by customer: `{{ config(**
    customer_sales_incremental_config()) }}`. -#}
{% macro customer_sales_incremental_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'sync_all_columns',
        'rules_vars': ['plausible_order_total_max_yen', 'plausible_line_quantity_max'],
        'rules_models': ['int_orders_enriched'],
        'watermark_load_column': '_watermark_load_id',
        'pre_hook': '{{ touched_rows_pre_hook(customers_touched()) }}',
    }) }}
{%- endmacro %}

{#- Reports by order month (macros/utils/incremental_touched.sql): a month's figures depend on the
    purchases ordered in it and on which purchase is each customer's first, and a change to an
    order can only move figures from its own order date on (its customer's first purchase moves
    to a date no earlier than the earliest version of the orders involved). So a run recomputes
    the months from the earliest order date among every raw version of the orders tonight's
    staged rows touch, the months not complete at the last run, and a new month. -#}

{#- The earliest order date of every raw version of the touched orders (a scalar subquery, null
    when nothing was touched). -#}
{% macro orders_changed_since(watermark) -%}
    (
        select cast(min(changed_orders.ordered_at) as date)
        from {{ source('shop', 'orders') }} as changed_orders
        where changed_orders.order_id in ({{ touched_order_ids(watermark) }})
    )
{%- endmacro %}

{#- The pre-hook of a report by month: delete the months to recompute (every row when
    rebuilding). -#}
{% macro changed_months_pre_hook(month_column='month_start') -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is not none -%}
    delete from {{ this }}
    where
        {{ month_column }} >= {{ dbt.date_trunc('month', orders_changed_since(watermark)) }}
        or not is_complete_month
    {%- elif is_incremental() -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- `where`-clause of the months an incremental report computes: those not in the table (after
    its pre-hook); nothing when rebuilding. -#}
{% macro months_not_written(column='month_start') -%}
    {%- if execute and this is not none and is_incremental() -%}
        where {{ column }} not in (select written.month_start from {{ this }} as written)
    {%- endif -%}
{%- endmacro %}

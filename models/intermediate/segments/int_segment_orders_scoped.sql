{#- The customers' orders in every segmentation scope: the whole shop (scope `_all`, whole
    orders) and each category or brand listed in the seed segment_categories (only orders
    with lines of that category or brand, with the part of the order's gross amount that
    falls on those lines). Implausible orders (see int_orders_enriched) are left out.
    Incremental by order, as int_orders_enriched (macros/utils/incremental_touched.sql): a run
    recomputes the orders tonight's staged rows touch, and every order when the seed, the
    plausibility vars or this SQL changed. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=['plausible_order_total_max_yen', 'plausible_line_quantity_max'],
        rules_models=['int_orders_enriched'],
        watermark_load_column='_watermark_load_id',
        pre_hook="{{ touched_rows_pre_hook(orders_touched()) }}",
    )
}}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where {{ orders_touched() }}
),

order_lines as (
    select lines.*
    from {{ ref('stg_shop__order_lines') }} as lines
    where lines.order_id in (select orders.order_id from orders)
),

segment_categories as (
    select * from {{ ref('segment_categories') }}
),

customer_orders as (
    select
        order_id,
        customer_id,
        ordered_date,
        gross_amount,
        is_cancelled,
        cast(first_shipped_at as date) as first_shipped_date,
        _watermark_load_id
    from orders
    where
        not is_guest
        and not is_implausible
),

order_line_totals as (
    select
        order_id,
        sum(line_amount) as lines_amount
    from order_lines
    group by order_id
),

scoped_lines as (
    select
        order_lines.order_id,
        segment_categories.scope_code,
        order_lines.line_amount
    from order_lines
    inner join segment_categories
        on
            (
                segment_categories.dimension = 'category'
                and order_lines.category = segment_categories.dimension_value
            )
            or (
                segment_categories.dimension = 'brand'
                and order_lines.brand = segment_categories.dimension_value
            )
),

scoped_line_totals as (
    select
        order_id,
        scope_code,
        sum(line_amount) as scope_lines_amount
    from scoped_lines
    group by order_id, scope_code
),

whole_shop as (
    select
        '_all' as scope_code,
        order_id,
        customer_id,
        ordered_date,
        gross_amount,
        is_cancelled,
        first_shipped_date,
        cast(1 as {{ dbt.type_numeric() }}) as amount_share,
        _watermark_load_id
    from customer_orders
),

category_scopes as (
    select
        scoped_line_totals.scope_code,
        customer_orders.order_id,
        customer_orders.customer_id,
        customer_orders.ordered_date,
        customer_orders.gross_amount * scoped_line_totals.scope_lines_amount
        / order_line_totals.lines_amount as gross_amount,
        customer_orders.is_cancelled,
        customer_orders.first_shipped_date,
        scoped_line_totals.scope_lines_amount / order_line_totals.lines_amount as amount_share,
        customer_orders._watermark_load_id
    from scoped_line_totals
    inner join order_line_totals
        on scoped_line_totals.order_id = order_line_totals.order_id
    inner join customer_orders
        on scoped_line_totals.order_id = customer_orders.order_id
    where order_line_totals.lines_amount > 0
),

unioned as (
    select * from whole_shop
    union all
    select * from category_scopes
),

final as (
    select
        scope_code,
        order_id,
        customer_id,
        ordered_date,
        cast(gross_amount as {{ dbt.type_numeric() }}) as gross_amount,
        cast(amount_share as {{ dbt.type_numeric() }}) as amount_share,
        is_cancelled,
        first_shipped_date,
        _watermark_load_id,
        {{ as_of_date() }} as _staged_as_of,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from unioned
)

select * from final

{#- Incremental by customer (macros/utils/incremental_touched.sql): a run recomputes the
    customers on the orders tonight's staged rows touch, and every customer when the
    plausibility vars or the SQL of this model or of int_orders_enriched change. -#}
{{ config(**customer_sales_incremental_config()) }}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where {{ customers_touched() }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

purchased_lines as (
    select
        orders.customer_id,
        orders.ordered_at,
        order_lines.category,
        order_lines.brand,
        order_lines.quantity,
        order_lines.line_amount,
        row_number() over (
            partition by orders.customer_id
            order by orders.ordered_at asc, order_lines.order_id asc, order_lines.line_number asc
        ) as line_sequence
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where
        orders.is_purchase
        and not orders.is_guest
        and order_lines.quantity <= {{ number_var('plausible_line_quantity_max') }}
),

dimension_lines as (
    select
        customer_id,
        'category' as dimension,
        category as dimension_value,
        ordered_at,
        quantity,
        line_amount,
        line_sequence
    from purchased_lines
    where category is not null

    union all

    select
        customer_id,
        'brand' as dimension,
        brand as dimension_value,
        ordered_at,
        quantity,
        line_amount,
        line_sequence
    from purchased_lines
    where brand is not null
),

totals as (
    select
        customer_id,
        dimension,
        dimension_value,
        sum(quantity) as quantity,
        sum(line_amount) as line_amount,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        min(line_sequence) as first_line_sequence
    from dimension_lines
    group by customer_id, dimension, dimension_value
),

final as (
    select
        customer_id,
        dimension,
        dimension_value,
        quantity,
        line_amount,
        first_ordered_at,
        last_ordered_at,
        row_number() over (
            partition by customer_id, dimension
            order by quantity desc, last_ordered_at desc, dimension_value asc
        ) as most_bought_rank,
        row_number() over (
            partition by customer_id, dimension
            order by first_line_sequence asc
        ) as first_bought_rank,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from totals
)

select * from final

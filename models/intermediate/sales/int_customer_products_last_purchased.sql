{#- One row per customer with a purchase: the product of their latest purchased order line
    (latest order, then its highest line number), for personalised mail ("you bought ...").
    Incremental by customer (macros/utils/incremental_touched.sql): a run recomputes the
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
        orders.ordered_date,
        order_lines.sku,
        order_lines.product_name,
        order_lines.brand,
        order_lines.category,
        row_number() over (
            partition by orders.customer_id
            order by orders.ordered_at desc, orders.order_id desc, order_lines.line_number desc
        ) as recency_rank
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where
        orders.is_purchase
        and not orders.is_guest
),

final as (
    select
        customer_id,
        ordered_date as last_purchased_date,
        sku as last_purchased_sku,
        product_name as last_purchased_product_name,
        brand as last_purchased_brand,
        category as last_purchased_category,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from purchased_lines
    where recency_rank = 1
)

select * from final

{#- One row per SKU sold up to as_of_date, with the product name, brand and category of its
    latest order line (names change; the latest wins). Only names known from order lines. -#}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

sold_lines as (
    select
        order_lines.sku,
        order_lines.product_name,
        order_lines.brand,
        order_lines.category,
        orders.ordered_at,
        row_number() over (
            partition by order_lines.sku
            order by orders.ordered_at desc, order_lines.order_id desc, order_lines.line_number desc
        ) as recency_rank
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where order_lines.sku is not null
),

final as (
    select
        sku,
        product_name,
        brand,
        category,
        cast(ordered_at as date) as last_sold_date
    from sold_lines
    where recency_rank = 1
)

select * from final

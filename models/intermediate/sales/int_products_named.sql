{#- One row per SKU sold up to as_of_date, with the product name, brand and category of its
    latest order line (names change; the latest wins: the latest order, then its highest line
    number). Only names known from order lines. A plain table: one hash aggregate over the
    order lines (`max_by`, no sort) costs less than keeping it incremental. -#}
{%- set line_columns = ['product_name', 'brand', 'category', 'ordered_at', 'order_id', 'line_number'] %}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    where sku is not null
),

sold_lines as (
    select
        order_lines.sku,
        order_lines.product_name,
        order_lines.brand,
        order_lines.category,
        orders.ordered_at,
        order_lines.order_id,
        order_lines.line_number
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
),

latest as (
    select
        sku,
        max_by(
            {{ struct_of(line_columns) }},
            {{ struct_of(['ordered_at', 'order_id', 'line_number']) }}
        ) as line
    from sold_lines
    group by sku
),

-- noqa: disable=AL09, RF03
{# (`line.<field>` reads a field of the struct `line`, not a column of a table named `line`) #}
final as (
    select
        sku,
        line.product_name as product_name,
        line.brand as brand,
        line.category as category,
        cast(line.ordered_at as date) as last_sold_date,
        line.order_id as _order_id,
        line.line_number as _line_number
    from latest
)
-- noqa: enable=AL09, RF03

select * from final

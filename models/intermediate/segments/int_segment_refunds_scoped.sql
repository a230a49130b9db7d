{#- Refunds in every segmentation scope: the whole shop (scope `_all`, every refund on a
    customer's order) and each category or brand of the seed segment_categories (a refund on
    a line counts for that line's category or brand; a refund on the whole order is shared
    out by the scope's part of the order). Refunds count as capped by int_returns_capped: never
    more than the order's gross amount. -#}

with

returns as (
    select * from {{ ref('int_returns_capped') }}
),

scoped_orders as (
    select * from {{ ref('int_segment_orders_scoped') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

segment_categories as (
    select * from {{ ref('segment_categories') }}
),

whole_order_refunds as (
    select
        scoped_orders.scope_code,
        returns.return_id,
        returns.order_id,
        returns.returned_date,
        case
            when scoped_orders.scope_code = '_all' then returns.counted_refund_amount
            else returns.counted_refund_amount * scoped_orders.amount_share
        end as refund_amount
    from returns
    inner join scoped_orders
        on returns.order_id = scoped_orders.order_id
    where
        returns.line_number is null
        or scoped_orders.scope_code = '_all'
),

line_refunds as (
    select
        segment_categories.scope_code,
        returns.return_id,
        returns.order_id,
        returns.returned_date,
        returns.counted_refund_amount as refund_amount
    from returns
    inner join order_lines
        on
            returns.order_id = order_lines.order_id
            and returns.line_number = order_lines.line_number
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
    inner join scoped_orders
        on
            returns.order_id = scoped_orders.order_id
            and segment_categories.scope_code = scoped_orders.scope_code
),

unioned as (
    select * from whole_order_refunds
    union all
    select * from line_refunds
),

final as (
    select
        scope_code,
        return_id,
        order_id,
        returned_date,
        cast(refund_amount as {{ dbt.type_numeric() }}) as refund_amount
    from unioned
)

select * from final

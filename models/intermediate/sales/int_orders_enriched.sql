{#- Incremental by order: a run recomputes only the orders tonight's staged orders, order lines,
    shipments and returns touch (macros/utils/incremental_touched.sql), and every order when the
    plausibility vars or this SQL changed (macros/utils/rules_fingerprint.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=['plausible_order_total_max_yen', 'plausible_line_quantity_max'],
        watermark_load_column='_watermark_load_id',
        pre_hook="{{ touched_rows_pre_hook(orders_touched()) }}",
    )
}}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ orders_touched() }}
),

returns as (
    select capped.*
    from {{ ref('int_returns_capped') }} as capped
    where capped.order_id in (select orders.order_id from orders)
),

order_lines as (
    select lines.*
    from {{ ref('stg_shop__order_lines') }} as lines
    where lines.order_id in (select orders.order_id from orders)
),

shipments as (
    select shipped.*
    from {{ ref('stg_shop__shipments') }} as shipped
    where shipped.order_id in (select orders.order_id from orders)
),

refunds_per_order as (
    select
        order_id,
        count(*) as return_events,
        sum(counted_refund_amount) as refunded_amount,
        sum(refund_amount) as delivered_refund_amount,
        min(returned_at) as first_returned_at
    from returns
    where is_order_known
    group by order_id
),

lines_per_order as (
    select
        order_id,
        max(quantity) as max_line_quantity
    from order_lines
    group by order_id
),

shipments_per_order as (
    select
        order_id,
        count(*) as shipment_count,
        min(shipped_at) as first_shipped_at,
        max(delivered_at) as last_delivered_at
    from shipments
    group by order_id
),

joined as (
    select
        orders.*,
        orders.total_amount - orders.shipping_fee as gross_amount,
        coalesce(refunds_per_order.refunded_amount, 0) as refunded_amount,
        coalesce(refunds_per_order.delivered_refund_amount, 0) as delivered_refund_amount,
        coalesce(refunds_per_order.return_events, 0) as return_events,
        refunds_per_order.first_returned_at,
        coalesce(shipments_per_order.shipment_count, 0) as shipment_count,
        shipments_per_order.first_shipped_at,
        shipments_per_order.last_delivered_at,
        lines_per_order.max_line_quantity
    from orders
    left join refunds_per_order
        on orders.order_id = refunds_per_order.order_id
    left join shipments_per_order
        on orders.order_id = shipments_per_order.order_id
    left join lines_per_order
        on orders.order_id = lines_per_order.order_id
),

flagged as (
    select
        *,
        gross_amount - refunded_amount as net_amount,
        customer_id is null as is_guest,
        total_amount < 0 as is_total_negative,
        total_amount > {{ number_var('plausible_order_total_max_yen') }} as is_total_above_max,
        coalesce(
            max_line_quantity > {{ number_var('plausible_line_quantity_max') }}, false
        ) as has_quantity_above_max,
        order_status = 'cancelled' as is_cancelled,
        (
            order_status = 'returned'
            or (refunded_amount > 0 and refunded_amount >= gross_amount)
        ) as is_fully_refunded,
        return_events > 0 or order_status = 'returned' as has_return,
        (
            first_shipped_at is not null
            or order_status in ('shipped', 'delivered', 'returned')
        ) as is_shipped,
        case
            when first_shipped_at is not null
                then {{ days_between('ordered_date', 'first_shipped_at') }}
        end as shipment_lag_days
    from joined
),

plausibility_checked as (
    select
        *,
        is_total_negative or is_total_above_max as is_implausible
    from flagged
),

final as (
    select
        *,
        not is_cancelled and not is_fully_refunded and not is_implausible as is_purchase,
        {{ newest_staged_load([
            ref('stg_shop__orders'),
            ref('stg_shop__order_lines'),
            ref('stg_shop__shipments'),
            ref('stg_shop__returns'),
        ]) }} as _watermark_load_id,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from plausibility_checked
)

select * from final

{#- One row per customer with an order (guest orders excluded): what they bought and how their
    orders went, over their whole history up to as_of_date, without the columns that depend on
    as_of_date itself (customer_facts adds recency, tenure and the recent window). Incremental
    by customer (macros/utils/incremental_touched.sql): a run recomputes only the customers on
    the orders tonight's staged rows touch, so customer_facts reads one row per customer instead
    of every order. -#}
{{ config(**customer_sales_incremental_config()) }}

with

orders as (
    select
        customer_id,
        order_id,
        ordered_at,
        ordered_date,
        channel,
        is_subscription,
        gross_amount,
        refunded_amount,
        net_amount,
        is_purchase,
        is_cancelled,
        has_return,
        is_shipped,
        shipment_lag_days
    from {{ ref('int_orders_enriched') }}
    where
        not is_guest
        and {{ customers_touched() }}
),

purchase_days as (
    select * from {{ ref('int_purchase_days_sequenced') }}
    where {{ customers_touched() }}
),

{# purchases (not cancelled, not fully refunded, plausible) and the experience of every order
    placed (not cancelled), in one pass #}
order_totals as (
    select
        customer_id,
        min(case when is_purchase then ordered_date end) as first_purchase_date,
        max(case when is_purchase then ordered_date end) as last_purchase_date,
        count(case when is_purchase then 1 end) as order_count,
        count(distinct case when is_purchase then ordered_date end) as purchase_days,
        sum(case when is_purchase then gross_amount else 0 end) as gross_sales,
        sum(case when is_purchase then refunded_amount else 0 end) as refunded_amount,
        sum(case when is_purchase then net_amount else 0 end) as net_sales,
        max(case when is_purchase and is_subscription then 1 else 0 end) = 1 as is_subscriber,
        count(case when not is_cancelled then 1 end) as placed_orders,
        sum(case when not is_cancelled and has_return then 1 else 0 end) as returned_orders,
        sum(case when not is_cancelled and not is_shipped then 1 else 0 end) as unshipped_orders,
        avg(case when not is_cancelled then shipment_lag_days end) as avg_shipment_lag_days
    from orders
    group by customer_id
),

first_purchases as (
    select
        customer_id,
        order_id as first_purchase_order_id,
        channel as first_channel,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as purchase_number
    from orders
    where is_purchase
),

intervals as (
    select
        customer_id,
        avg(days_since_previous_purchase) as mean_purchase_interval_days,
        {{ median('days_since_previous_purchase') }} as median_purchase_interval_days
    from purchase_days
    where days_since_previous_purchase is not null
    group by customer_id
),

final as (
    select
        order_totals.customer_id,
        order_totals.first_purchase_date,
        order_totals.last_purchase_date,
        order_totals.order_count,
        order_totals.purchase_days,
        order_totals.gross_sales,
        order_totals.refunded_amount,
        order_totals.net_sales,
        order_totals.is_subscriber,
        order_totals.placed_orders,
        order_totals.returned_orders,
        order_totals.unshipped_orders,
        order_totals.avg_shipment_lag_days,
        first_purchases.first_purchase_order_id,
        first_purchases.first_channel,
        intervals.mean_purchase_interval_days,
        intervals.median_purchase_interval_days,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from order_totals
    left join first_purchases
        on
            order_totals.customer_id = first_purchases.customer_id
            and first_purchases.purchase_number = 1
    left join intervals
        on order_totals.customer_id = intervals.customer_id
)

select * from final

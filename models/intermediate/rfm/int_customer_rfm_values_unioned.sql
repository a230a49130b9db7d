{#- A view, not a table: its only reader, customer_rfm_history, takes the few snapshot dates it
    has not written yet (a new month end, the as_of_date), and the filter on those dates reaches
    the month-end snapshots through this view. As a table it would copy the whole history every
    night. -#}
{{ config(materialized='view') }}

{%- set window_months = rfm_window_months() -%}

with

month_end_snapshots as (
    select * from {{ ref('int_customer_months_snapshotted') }}
),

customer_orders as (
    select * from {{ ref('int_customers_orders_aggregated') }}
),

members as (
    select * from {{ ref('stg_shop__members') }}
),

{% if window_months %}
orders as (
    select * from {{ ref('int_orders_enriched') }}
),

window_purchases as (
    select
        customer_id,
        count(*) as window_order_count,
        sum(net_amount) as window_net_sales
    from orders
    where
        is_purchase
        and not is_guest
        and ordered_date >= {{ dbt.dateadd(
            'month', 1 - window_months, dbt.date_trunc('month', as_of_date())
        ) }}
    group by customer_id
),
{% endif %}

{# the customers of customer_facts: those with an order and the members #}
customers as (
    select customer_id from customer_orders
    union
    select customer_id from members
),

current_values as (
    select
        {{ as_of_date() }} as snapshot_date,
        customers.customer_id,
        customer_orders.first_purchase_date,
        customer_orders.last_purchase_date,
        coalesce(customer_orders.order_count, 0) as order_count,
        coalesce(customer_orders.net_sales, 0) as net_sales,
        {% if window_months %}
            coalesce(window_purchases.window_order_count, 0) as window_order_count,
            coalesce(window_purchases.window_net_sales, 0) as window_net_sales,
        {% else %}
            cast(null as {{ dbt.type_bigint() }}) as window_order_count,
            cast(null as {{ dbt.type_numeric() }}) as window_net_sales,
        {% endif %}
        {{ days_between('customer_orders.last_purchase_date', as_of_date()) }} as recency_days
    from customers
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    {% if window_months %}
        left join window_purchases
            on customers.customer_id = window_purchases.customer_id
    {% endif %}
),

past_values as (
    select
        snapshot_date,
        customer_id,
        first_purchase_date,
        last_purchase_date,
        order_count,
        net_sales,
        window_order_count,
        window_net_sales,
        recency_days
    from month_end_snapshots
    where snapshot_date < {{ as_of_date() }}
),

unioned as (
    select * from past_values
    union all
    select * from current_values
),

final as (
    select
        unioned.snapshot_date,
        unioned.customer_id,
        unioned.snapshot_date = {{ as_of_date() }} as is_as_of_date,
        unioned.first_purchase_date,
        unioned.last_purchase_date,
        unioned.order_count,
        unioned.net_sales,
        unioned.recency_days,
        coalesce(unioned.window_order_count, unioned.order_count) as frequency,
        coalesce(unioned.window_net_sales, unioned.net_sales) as monetary,
        members.customer_id is not null as is_member
    from unioned
    left join members
        on
            unioned.customer_id = members.customer_id
            and unioned.snapshot_date >= members.registered_date
)

select * from final

{#- Month-end snapshots of each customer's purchase history, written once per month end and
    never recomputed by later runs (incremental, append): a month already in the table is not
    scanned again. Only complete months (month ends before as_of_date) are written; the
    as_of_date itself is described by customer_facts. A full refresh rebuilds every month. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

{%- set window_months = rfm_window_months() -%}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

members as (
    select * from {{ ref('stg_shop__members') }}
),

customer_purchases as (
    select
        customer_id,
        order_id,
        ordered_date,
        gross_amount,
        {{ dbt.date_trunc('month', 'ordered_date') }} as month_start
    from orders
    where
        is_purchase
        and not is_guest
),

customer_refunds as (
    select
        customer_purchases.customer_id,
        returns.refund_amount,
        {{ dbt.date_trunc('month', 'returns.returned_date') }} as month_start
    from returns
    inner join customer_purchases
        on returns.order_id = customer_purchases.order_id
),

known_customers as (
    select
        customer_id,
        min(month_start) as first_month_start
    from (
        select
            customer_id,
            month_start
        from customer_purchases
        union all
        select
            customer_id,
            {{ dbt.date_trunc('month', 'registered_date') }} as month_start
        from members
    ) as first_seen
    group by customer_id
),

all_month_ends as (
    select month_end
    from {{ month_ends(
        '(select min(first_month_start) from known_customers)',
        dbt.dateadd('day', -1, as_of_date()),
    ) }} as spine
),

month_ends as (
    select month_end
    from all_month_ends
    {% if is_incremental() %}
        where month_end > (select coalesce(max(snapshot_date), cast('1900-01-01' as date)) from {{ this }})
    {% endif %}
),

customer_months as (
    select
        known_customers.customer_id,
        all_month_ends.month_end,
        {{ dbt.date_trunc('month', 'all_month_ends.month_end') }} as month_start
    from known_customers
    inner join all_month_ends
        on known_customers.first_month_start <= all_month_ends.month_end
),

purchases_per_month as (
    select
        customer_id,
        month_start,
        count(*) as orders,
        sum(gross_amount) as gross_amount,
        min(ordered_date) as first_purchase_date,
        max(ordered_date) as last_purchase_date
    from customer_purchases
    group by customer_id, month_start
),

refunds_per_month as (
    select
        customer_id,
        month_start,
        sum(refund_amount) as refund_amount
    from customer_refunds
    group by customer_id, month_start
),

monthly as (
    select
        customer_months.customer_id,
        customer_months.month_end,
        coalesce(purchases_per_month.orders, 0) as orders,
        coalesce(purchases_per_month.gross_amount, 0)
        - coalesce(refunds_per_month.refund_amount, 0) as net_amount,
        purchases_per_month.first_purchase_date,
        purchases_per_month.last_purchase_date
    from customer_months
    left join purchases_per_month
        on
            customer_months.customer_id = purchases_per_month.customer_id
            and customer_months.month_start = purchases_per_month.month_start
    left join refunds_per_month
        on
            customer_months.customer_id = refunds_per_month.customer_id
            and customer_months.month_start = refunds_per_month.month_start
),

cumulative as (
    select
        customer_id,
        month_end,
        sum(orders) over (
            partition by customer_id order by month_end
            rows between unbounded preceding and current row
        ) as order_count,
        sum(net_amount) over (
            partition by customer_id order by month_end
            rows between unbounded preceding and current row
        ) as net_sales,
        min(first_purchase_date) over (
            partition by customer_id order by month_end
            rows between unbounded preceding and current row
        ) as first_purchase_date,
        max(last_purchase_date) over (
            partition by customer_id order by month_end
            rows between unbounded preceding and current row
        ) as last_purchase_date,
        {% if window_months %}
            sum(orders) over (
                partition by customer_id order by month_end
                rows between {{ window_months - 1 }} preceding and current row
            ) as window_order_count,
            sum(net_amount) over (
                partition by customer_id order by month_end
                rows between {{ window_months - 1 }} preceding and current row
            ) as window_net_sales
        {% else %}
            cast(null as {{ dbt.type_bigint() }}) as window_order_count,
            cast(null as {{ dbt.type_numeric() }}) as window_net_sales
        {% endif %}
    from monthly
),

final as (
    select
        cumulative.month_end as snapshot_date,
        cumulative.customer_id,
        cumulative.first_purchase_date,
        cumulative.last_purchase_date,
        cast(cumulative.order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(cumulative.net_sales as {{ dbt.type_numeric() }}) as net_sales,
        cast(cumulative.window_order_count as {{ dbt.type_bigint() }}) as window_order_count,
        cast(cumulative.window_net_sales as {{ dbt.type_numeric() }}) as window_net_sales,
        {{ days_between('cumulative.last_purchase_date', 'cumulative.month_end') }} as recency_days
    from cumulative
    inner join month_ends
        on cumulative.month_end = month_ends.month_end
)

select * from final

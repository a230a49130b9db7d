{#- Month-end snapshots of each customer's purchase history, written once per month end and
    never recomputed by later runs (incremental, append): a month already in the table is not
    scanned again. Only complete months (month ends before as_of_date) are written; the
    as_of_date itself is described by customer_facts. A change of the rules the rows are
    computed with (this SQL, rfm_window_months, what counts as a purchase and a refund)
    recomputes every month end (stale_rules_pre_hook, macros/utils/rules_fingerprint.sql); a
    full refresh rebuilds every month. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=['rfm_window_months', 'plausible_order_total_max_yen'],
        rules_models=['int_orders_enriched', 'int_returns_capped'],
        pre_hook="{{ stale_rules_pre_hook() }}",
    )
}}

{%- set window_months = rfm_window_months() -%}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

returns as (
    select * from {{ ref('int_returns_capped') }}
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
        returns.counted_refund_amount as refund_amount,
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
        month_ends.month_end
    from known_customers
    inner join month_ends
        on known_customers.first_month_start <= month_ends.month_end
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

purchases_to_date as (
    select
        month_ends.month_end,
        purchases_per_month.customer_id,
        sum(purchases_per_month.orders) as order_count,
        sum(purchases_per_month.gross_amount) as gross_amount,
        min(purchases_per_month.first_purchase_date) as first_purchase_date,
        max(purchases_per_month.last_purchase_date) as last_purchase_date,
        {% if window_months %}
            sum(
                case
                    when purchases_per_month.month_start
                        > {{ dbt.dateadd('month', -window_months, 'month_ends.month_end') }}
                        then purchases_per_month.orders
                    else 0
                end
            ) as window_order_count,
            sum(
                case
                    when purchases_per_month.month_start
                        > {{ dbt.dateadd('month', -window_months, 'month_ends.month_end') }}
                        then purchases_per_month.gross_amount
                    else 0
                end
            ) as window_gross_amount
        {% else %}
            cast(null as {{ dbt.type_bigint() }}) as window_order_count,
            cast(null as {{ dbt.type_numeric() }}) as window_gross_amount
        {% endif %}
    from month_ends
    inner join purchases_per_month
        on month_ends.month_end >= purchases_per_month.month_start
    group by month_ends.month_end, purchases_per_month.customer_id
),

refunds_to_date as (
    select
        month_ends.month_end,
        refunds_per_month.customer_id,
        sum(refunds_per_month.refund_amount) as refund_amount,
        {% if window_months %}
            sum(
                case
                    when refunds_per_month.month_start
                        > {{ dbt.dateadd('month', -window_months, 'month_ends.month_end') }}
                        then refunds_per_month.refund_amount
                    else 0
                end
            ) as window_refund_amount
        {% else %}
            cast(null as {{ dbt.type_numeric() }}) as window_refund_amount
        {% endif %}
    from month_ends
    inner join refunds_per_month
        on month_ends.month_end >= refunds_per_month.month_start
    group by month_ends.month_end, refunds_per_month.customer_id
),

cumulative as (
    select
        customer_months.customer_id,
        customer_months.month_end,
        coalesce(purchases_to_date.order_count, 0) as order_count,
        coalesce(purchases_to_date.gross_amount, 0)
        - coalesce(refunds_to_date.refund_amount, 0) as net_sales,
        purchases_to_date.first_purchase_date,
        purchases_to_date.last_purchase_date,
        {% if window_months %}
            coalesce(purchases_to_date.window_order_count, 0) as window_order_count,
            coalesce(purchases_to_date.window_gross_amount, 0)
            - coalesce(refunds_to_date.window_refund_amount, 0) as window_net_sales
        {% else %}
            purchases_to_date.window_order_count,
            purchases_to_date.window_gross_amount as window_net_sales
        {% endif %}
    from customer_months
    left join purchases_to_date
        on
            customer_months.customer_id = purchases_to_date.customer_id
            and customer_months.month_end = purchases_to_date.month_end
    left join refunds_to_date
        on
            customer_months.customer_id = refunds_to_date.customer_id
            and customer_months.month_end = refunds_to_date.month_end
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
        {{ days_between('cumulative.last_purchase_date', 'cumulative.month_end') }} as recency_days,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from cumulative
)

select * from final

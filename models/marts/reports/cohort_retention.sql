{#- Acquisition-cohort retention: per acquisition month (month of first purchase) and month
    since first purchase (0 = the acquisition month) up to as_of_date's month, how many of the
    cohort purchased in that month and their cumulative net sales per cohort customer. -#}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

purchases as (
    select
        customer_id,
        ordered_date,
        net_amount,
        cast({{ dbt.date_trunc('month', 'ordered_date') }} as date) as month_start
    from orders
    where
        is_purchase
        and not is_guest
        and ordered_date <= {{ as_of_date() }}
),

customer_cohorts as (
    select
        customer_id,
        min(month_start) as cohort_month
    from purchases
    group by customer_id
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customers
    from customer_cohorts
    group by cohort_month
),

months as (
    select
        cast({{ dbt.date_trunc('month', 'month_end') }} as date) as month_start,
        month_end
    from {{ month_ends(
        '(select min(cohort_month) from customer_cohorts)',
        dbt.last_day(as_of_date(), 'month'),
    ) }} as spine
),

cohort_months as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customers,
        months.month_start,
        months.month_end,
        {{ dbt.datediff('cohort_sizes.cohort_month', 'months.month_start', 'month') }}
            as months_since_first_purchase
    from cohort_sizes
    inner join months
        on cohort_sizes.cohort_month <= months.month_start
),

cohort_activity as (
    select
        customer_cohorts.cohort_month,
        purchases.month_start,
        count(distinct purchases.customer_id) as active_customers,
        count(*) as orders,
        sum(purchases.net_amount) as net_sales
    from purchases
    inner join customer_cohorts
        on purchases.customer_id = customer_cohorts.customer_id
    group by
        customer_cohorts.cohort_month,
        purchases.month_start
),

joined as (
    select
        cohort_months.cohort_month,
        cohort_months.month_start,
        cohort_months.month_end,
        cohort_months.months_since_first_purchase,
        cohort_months.cohort_customers,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.orders, 0) as orders,
        coalesce(cohort_activity.net_sales, 0) as net_sales
    from cohort_months
    left join cohort_activity
        on
            cohort_months.cohort_month = cohort_activity.cohort_month
            and cohort_months.month_start = cohort_activity.month_start
),

cumulated as (
    select
        *,
        sum(net_sales) over (
            partition by cohort_month order by month_start
            rows between unbounded preceding and current row
        ) as cumulative_net_sales
    from joined
),

final as (
    select
        cohort_month,
        cast(months_since_first_purchase as {{ dbt.type_int() }}) as months_since_first_purchase,
        month_start as activity_month,
        month_end <= {{ as_of_date() }} as is_complete_month,
        cast(cohort_customers as {{ dbt.type_bigint() }}) as cohort_customers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        round(1.0 * active_customers / cohort_customers, 4) as retention_rate,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        net_sales,
        cumulative_net_sales,
        round(cumulative_net_sales / cohort_customers, 2) as cumulative_net_sales_per_customer
    from cumulated
)

select * from final

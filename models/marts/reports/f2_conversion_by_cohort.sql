{#- First-to-second purchase (F2) conversion per acquisition month (the month of a customer's
    first purchase): who came back for a second order, ever and within f2_window_days. -#}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

purchases as (
    select
        order_id,
        customer_id,
        ordered_at,
        ordered_date
    from orders
    where
        is_purchase
        and not is_guest
        and ordered_date <= {{ as_of_date() }}
),

sequenced as (
    select
        customer_id,
        ordered_date,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as purchase_number
    from purchases
),

customers as (
    select
        customer_id,
        min(case when purchase_number = 1 then ordered_date end) as first_purchase_date,
        min(case when purchase_number = 2 then ordered_date end) as second_purchase_date
    from sequenced
    where purchase_number <= 2
    group by customer_id
),

customer_conversions as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'first_purchase_date') }} as date) as cohort_month,
        first_purchase_date,
        second_purchase_date,
        {{ days_between('first_purchase_date', 'second_purchase_date') }} as days_to_second_purchase
    from customers
),

cohorts as (
    select
        cohort_month,
        count(*) as customers_acquired,
        count(second_purchase_date) as f2_customers,
        sum(
            case when days_to_second_purchase <= {{ number_var('f2_window_days') }} then 1 else 0 end
        ) as f2_customers_within_window,
        {{ median('days_to_second_purchase') }} as median_days_to_second_purchase,
        avg(1.0 * days_to_second_purchase) as avg_days_to_second_purchase
    from customer_conversions
    group by cohort_month
),

final as (
    select
        cohort_month,
        cast({{ dbt.last_day('cohort_month', 'month') }} as date) <= {{ as_of_date() }} as is_complete_month,
        cast({{ number_var('f2_window_days') }} as {{ dbt.type_int() }}) as f2_window_days,
        cast(
            {{ dbt.dateadd(
                'day', number_var('f2_window_days'), dbt.last_day('cohort_month', 'month')
            ) }} as date
        ) <= {{ as_of_date() }} as is_window_complete,
        cast(customers_acquired as {{ dbt.type_bigint() }}) as customers_acquired,
        cast(f2_customers as {{ dbt.type_bigint() }}) as f2_customers,
        round(1.0 * f2_customers / customers_acquired, 4) as f2_conversion_rate,
        cast(f2_customers_within_window as {{ dbt.type_bigint() }}) as f2_customers_within_window,
        round(
            1.0 * f2_customers_within_window / customers_acquired, 4
        ) as f2_conversion_rate_within_window,
        median_days_to_second_purchase,
        round(avg_days_to_second_purchase, 1) as avg_days_to_second_purchase
    from cohorts
)

select * from final

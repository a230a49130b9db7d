{#- Net sales and orders per calendar month split into new (a customer's first purchase),
    repeat (their later purchases) and guest orders. Incremental by month
    (macros/utils/incremental_touched.sql): a run recomputes the months from the earliest order
    date tonight's touched orders carry, the month still running at the last run and a new
    month; the others are kept. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=['plausible_order_total_max_yen', 'plausible_line_quantity_max'],
        rules_models=['int_orders_enriched', 'int_customers_orders_aggregated'],
        watermark_load_column='_watermark_load_id',
        pre_hook="{{ changed_months_pre_hook() }}",
    )
}}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

customer_orders as (
    select * from {{ ref('int_customers_orders_aggregated') }}
),

purchases as (
    select
        order_id,
        customer_id,
        is_guest,
        net_amount,
        cast({{ dbt.date_trunc('month', 'ordered_date') }} as date) as month_start
    from orders
    where
        is_purchase
        and ordered_date <= {{ as_of_date() }}
),

months_to_compute as (
    select * from purchases
    {{ months_not_written() }}
),

classified as (
    select
        months_to_compute.month_start,
        months_to_compute.customer_id,
        months_to_compute.net_amount,
        case
            when months_to_compute.is_guest then 'guest'
            when months_to_compute.order_id = customer_orders.first_purchase_order_id then 'new'
            else 'repeat'
        end as buyer_type
    from months_to_compute
    left join customer_orders
        on months_to_compute.customer_id = customer_orders.customer_id
),

months as (
    select
        cast({{ dbt.date_trunc('month', 'month_end') }} as date) as month_start,
        month_end
    from {{ month_ends(
        '(select min(first_orders.ordered_date) from ' ~ ref('int_orders_enriched')
        ~ ' as first_orders where first_orders.is_purchase and first_orders.ordered_date <= '
        ~ as_of_date() ~ ')',
        dbt.last_day(as_of_date(), 'month'),
    ) }} as spine
    {{ months_not_written(dbt.date_trunc('month', 'month_end')) }}
),

monthly as (
    select
        month_start,
        sum(case when buyer_type = 'new' then 1 else 0 end) as new_orders,
        sum(case when buyer_type = 'new' then net_amount else 0 end) as new_net_sales,
        count(distinct case when buyer_type = 'new' then customer_id end) as new_customers,
        sum(case when buyer_type = 'repeat' then 1 else 0 end) as repeat_orders,
        sum(case when buyer_type = 'repeat' then net_amount else 0 end) as repeat_net_sales,
        count(distinct case when buyer_type = 'repeat' then customer_id end) as repeat_customers,
        sum(case when buyer_type = 'guest' then 1 else 0 end) as guest_orders,
        sum(case when buyer_type = 'guest' then net_amount else 0 end) as guest_net_sales,
        count(*) as total_orders,
        sum(net_amount) as total_net_sales
    from classified
    group by month_start
),

final as (
    select
        months.month_start,
        months.month_end,
        months.month_end <= {{ as_of_date() }} as is_complete_month,
        cast(coalesce(monthly.new_orders, 0) as {{ dbt.type_bigint() }}) as new_orders,
        coalesce(monthly.new_net_sales, 0) as new_net_sales,
        cast(coalesce(monthly.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(monthly.repeat_orders, 0) as {{ dbt.type_bigint() }}) as repeat_orders,
        coalesce(monthly.repeat_net_sales, 0) as repeat_net_sales,
        cast(coalesce(monthly.repeat_customers, 0) as {{ dbt.type_bigint() }}) as repeat_customers,
        cast(coalesce(monthly.guest_orders, 0) as {{ dbt.type_bigint() }}) as guest_orders,
        coalesce(monthly.guest_net_sales, 0) as guest_net_sales,
        cast(coalesce(monthly.total_orders, 0) as {{ dbt.type_bigint() }}) as total_orders,
        coalesce(monthly.total_net_sales, 0) as total_net_sales,
        case
            when monthly.total_net_sales <> 0
                then round(1.0 * monthly.new_net_sales / monthly.total_net_sales, 4)
        end as new_net_sales_share,
        case
            when monthly.total_net_sales <> 0
                then round(1.0 * monthly.repeat_net_sales / monthly.total_net_sales, 4)
        end as repeat_net_sales_share,
        case
            when monthly.total_net_sales <> 0
                then round(1.0 * monthly.guest_net_sales / monthly.total_net_sales, 4)
        end as guest_net_sales_share,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from months
    left join monthly
        on months.month_start = monthly.month_start
)

select * from final

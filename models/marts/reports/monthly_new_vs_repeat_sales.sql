{#- Net sales and orders per calendar month split into new (a customer's first purchase),
    repeat (their later purchases) and guest orders. -#}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

purchases as (
    select
        order_id,
        customer_id,
        is_guest,
        ordered_at,
        ordered_date,
        net_amount,
        cast({{ dbt.date_trunc('month', 'ordered_date') }} as date) as month_start
    from orders
    where
        is_purchase
        and ordered_date <= {{ as_of_date() }}
),

sequenced as (
    select
        *,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as purchase_number
    from purchases
),

classified as (
    select
        month_start,
        customer_id,
        net_amount,
        case
            when is_guest then 'guest'
            when purchase_number = 1 then 'new'
            else 'repeat'
        end as buyer_type
    from sequenced
),

months as (
    select
        cast({{ dbt.date_trunc('month', 'month_end') }} as date) as month_start,
        month_end
    from {{ month_ends(
        '(select min(month_start) from purchases)',
        dbt.last_day(as_of_date(), 'month'),
    ) }} as spine
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
        end as guest_net_sales_share
    from months
    left join monthly
        on months.month_start = monthly.month_start
)

select * from final

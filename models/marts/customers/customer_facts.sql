with

customer_orders as (
    select * from {{ ref('int_customers_orders_aggregated') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

merchandise as (
    select * from {{ ref('int_customer_merchandise_ranked') }}
),

sessions as (
    select * from {{ ref('int_sessions_attributed') }}
),

web_activity as (
    select * from {{ ref('int_customers_web_aggregated') }}
),

members as (
    select * from {{ ref('stg_shop__members') }}
),

shipments as (
    select * from {{ ref('stg_shop__shipments') }}
),

customers as (
    select customer_id from customer_orders
    union
    select customer_id from members
),

{# the purchases of the last recent_window_days days: the one part of the facts that moves with
    as_of_date alone (a scan of three columns of the orders, grouped by customer) #}
recent_purchases as (
    select
        customer_id,
        count(*) as recent_orders,
        sum(net_amount) as recent_net_sales
    from orders
    where
        is_purchase
        and not is_guest
        and ordered_date > {{ dbt.dateadd('day', -number_var('recent_window_days'), as_of_date()) }}
    group by customer_id
),

merchandise_pivoted as (
    select
        customer_id,
        max(case when dimension = 'category' and first_bought_rank = 1 then dimension_value end)
            as first_category,
        max(case when dimension = 'category' and most_bought_rank = 1 then dimension_value end)
            as most_bought_category,
        max(case when dimension = 'brand' and first_bought_rank = 1 then dimension_value end)
            as first_brand,
        max(case when dimension = 'brand' and most_bought_rank = 1 then dimension_value end)
            as most_bought_brand
    from merchandise
    where first_bought_rank = 1 or most_bought_rank = 1
    group by customer_id
),

feeds as (
    select
        exists(select 1 from sessions) as has_web_feed,
        exists(select 1 from shipments) as has_shipment_feed
),

joined as (
    select
        customers.customer_id,
        {{ as_of_date() }} as as_of_date,
        customer_orders.first_purchase_date,
        customer_orders.last_purchase_date,
        coalesce(customer_orders.order_count, 0) as order_count,
        coalesce(customer_orders.purchase_days, 0) as purchase_days,
        coalesce(customer_orders.gross_sales, 0) as gross_sales,
        coalesce(customer_orders.refunded_amount, 0) as refunded_amount,
        coalesce(customer_orders.net_sales, 0) as net_sales,
        coalesce(recent_purchases.recent_orders, 0) as recent_orders,
        coalesce(recent_purchases.recent_net_sales, 0) as recent_net_sales,
        coalesce(customer_orders.is_subscriber, false) as is_subscriber,
        coalesce(customer_orders.placed_orders, 0) as placed_orders,
        coalesce(customer_orders.returned_orders, 0) as returned_orders,
        coalesce(customer_orders.unshipped_orders, 0) as unshipped_orders,
        customer_orders.avg_shipment_lag_days,
        customer_orders.first_channel,
        customer_orders.mean_purchase_interval_days,
        customer_orders.median_purchase_interval_days,
        merchandise_pivoted.first_category,
        merchandise_pivoted.most_bought_category,
        merchandise_pivoted.first_brand,
        merchandise_pivoted.most_bought_brand,
        feeds.has_web_feed,
        feeds.has_shipment_feed,
        web_activity.visits,
        web_activity.page_views,
        web_activity.time_on_site_seconds,
        web_activity.last_visit_date,
        web_activity.conversions,
        web_activity.last_conversion_date,
        web_activity.main_traffic_source,
        web_activity.last_viewed_sku,
        members.customer_id is not null as is_member,
        members.registered_date,
        coalesce(
            least(members.registered_date, customer_orders.first_purchase_date),
            customer_orders.first_purchase_date,
            members.registered_date
        ) as tenure_start_date,
        members.birth_date,
        members.gender,
        members.prefecture,
        members.member_rank,
        members.is_email_opt_in,
        members.is_sms_opt_in,
        members.is_dm_opt_in,
        members.is_withdrawn
    from customers
    cross join feeds
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id
    left join recent_purchases
        on customers.customer_id = recent_purchases.customer_id
    left join merchandise_pivoted
        on customers.customer_id = merchandise_pivoted.customer_id
    left join web_activity
        on customers.customer_id = web_activity.customer_id
    left join members
        on customers.customer_id = members.customer_id
),

derived as (
    select
        *,
        {{ days_between('last_purchase_date', 'as_of_date') }} as days_since_last_purchase,
        {{ days_between('tenure_start_date', 'as_of_date') }} as tenure_days,
        case
            when order_count > 0 then net_sales / order_count
        end as average_order_value,
        case
            when placed_orders > 0 then cast(returned_orders as {{ dbt.type_float() }}) / placed_orders
        end as return_rate,
        case
            when placed_orders > 0
                then cast(unshipped_orders as {{ dbt.type_float() }}) / placed_orders
        end as unshipped_order_share,
        case
            when median_purchase_interval_days is not null
                then {{ dbt.dateadd(
                    'day', 'cast(round(median_purchase_interval_days) as integer)', 'last_purchase_date'
                ) }}
        end as expected_next_purchase_date,
        case
            when order_count > 0
                then
                    order_count * 365.0
                    / greatest({{ days_between('first_purchase_date', 'as_of_date') }} + 1, 365)
        end as yearly_purchase_frequency
    from joined
),

final as (
    select
        customer_id,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        order_count,
        purchase_days,
        gross_sales,
        refunded_amount,
        net_sales,
        days_since_last_purchase,
        average_order_value,
        return_rate,
        tenure_days,
        mean_purchase_interval_days,
        median_purchase_interval_days,
        cast(expected_next_purchase_date as date) as expected_next_purchase_date,
        coalesce(
            days_since_last_purchase
            > median_purchase_interval_days * {{ number_var('overdue_interval_factor') }},
            false
        ) as is_overdue,
        recent_orders,
        recent_net_sales,
        placed_orders,
        returned_orders,
        case when has_shipment_feed then unshipped_order_share end as unshipped_order_share,
        avg_shipment_lag_days,
        first_category,
        most_bought_category,
        first_brand,
        most_bought_brand,
        first_channel,
        is_subscriber,
        case when has_web_feed then coalesce(visits, 0) end as visits,
        case when has_web_feed then coalesce(page_views, 0) end as page_views,
        case when has_web_feed then coalesce(time_on_site_seconds, 0) end as time_on_site_seconds,
        last_visit_date,
        {{ days_between('last_visit_date', 'as_of_date') }} as days_since_last_visit,
        case when has_web_feed then coalesce(conversions, 0) end as conversions,
        {{ days_between('last_conversion_date', 'as_of_date') }} as days_since_last_conversion,
        main_traffic_source,
        last_viewed_sku,
        is_member,
        registered_date,
        {{ age_in_years('birth_date', 'as_of_date') }} as age,
        extract(month from birth_date) as birth_month,
        gender,
        prefecture,
        member_rank,
        is_email_opt_in,
        is_sms_opt_in,
        is_dm_opt_in,
        is_withdrawn,
        net_sales as historical_ltv,
        yearly_purchase_frequency,
        average_order_value
        * yearly_purchase_frequency
        * {{ number_var('ltv_expected_lifetime_years') }} as projected_ltv
    from derived
)

select * from final

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

purchase_days as (
    select * from {{ ref('int_purchase_days_sequenced') }}
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

customer_orders as (
    select * from orders
    where not is_guest
),

customers as (
    select customer_id from customer_orders
    union
    select customer_id from members
),

purchases as (
    select
        customer_id,
        min(ordered_date) as first_purchase_date,
        max(ordered_date) as last_purchase_date,
        count(*) as order_count,
        count(distinct ordered_date) as purchase_days,
        sum(gross_amount) as gross_sales,
        sum(refunded_amount) as refunded_amount,
        sum(net_amount) as net_sales,
        sum(
            case
                when ordered_date > {{ dbt.dateadd('day', -number_var('recent_window_days'), as_of_date()) }}
                    then 1
                else 0
            end
        ) as recent_orders,
        sum(
            case
                when ordered_date > {{ dbt.dateadd('day', -number_var('recent_window_days'), as_of_date()) }}
                    then net_amount
                else 0
            end
        ) as recent_net_sales,
        max(case when is_subscription then 1 else 0 end) = 1 as is_subscriber
    from customer_orders
    where is_purchase
    group by customer_id
),

order_experience as (
    select
        customer_id,
        count(*) as placed_orders,
        sum(case when has_return then 1 else 0 end) as returned_orders,
        sum(case when is_shipped then 0 else 1 end) as unshipped_orders,
        avg(shipment_lag_days) as avg_shipment_lag_days
    from customer_orders
    where not is_cancelled
    group by customer_id
),

first_orders as (
    select
        customer_id,
        channel as first_channel,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as purchase_number
    from customer_orders
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
        (select count(*) from sessions) > 0 as has_web_feed,
        (select count(*) from shipments) > 0 as has_shipment_feed
),

joined as (
    select
        customers.customer_id,
        {{ as_of_date() }} as as_of_date,
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        coalesce(purchases.order_count, 0) as order_count,
        coalesce(purchases.purchase_days, 0) as purchase_days,
        coalesce(purchases.gross_sales, 0) as gross_sales,
        coalesce(purchases.refunded_amount, 0) as refunded_amount,
        coalesce(purchases.net_sales, 0) as net_sales,
        coalesce(purchases.recent_orders, 0) as recent_orders,
        coalesce(purchases.recent_net_sales, 0) as recent_net_sales,
        coalesce(purchases.is_subscriber, false) as is_subscriber,
        coalesce(order_experience.placed_orders, 0) as placed_orders,
        coalesce(order_experience.returned_orders, 0) as returned_orders,
        coalesce(order_experience.unshipped_orders, 0) as unshipped_orders,
        order_experience.avg_shipment_lag_days,
        first_orders.first_channel,
        intervals.mean_purchase_interval_days,
        intervals.median_purchase_interval_days,
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
            least(members.registered_date, purchases.first_purchase_date),
            purchases.first_purchase_date,
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
    left join purchases
        on customers.customer_id = purchases.customer_id
    left join order_experience
        on customers.customer_id = order_experience.customer_id
    left join first_orders
        on
            customers.customer_id = first_orders.customer_id
            and first_orders.purchase_number = 1
    left join intervals
        on customers.customer_id = intervals.customer_id
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

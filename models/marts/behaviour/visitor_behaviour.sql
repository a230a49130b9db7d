with

visitors as (
    select * from {{ ref('int_visitors_aggregated') }}
),

products as (
    select * from {{ ref('int_products_named') }}
),

final as (
    select
        visitors.visitor_id,
        visitors.customer_id,
        {{ as_of_date() }} as as_of_date,
        visitors.first_visit_date,
        visitors.last_visit_date,
        {{ days_between('visitors.last_visit_date', as_of_date()) }} as days_since_last_visit,
        visitors.visits,
        visitors.page_views,
        visitors.time_on_site_seconds,
        visitors.conversions,
        visitors.last_conversion_date,
        {{ days_between('visitors.last_conversion_date', as_of_date()) }} as days_since_last_conversion,
        visitors.distinct_pages_viewed,
        visitors.distinct_products_viewed,
        visitors.last_viewed_sku,
        products.product_name as last_viewed_product_name,
        visitors.main_traffic_source,
        visitors.main_device_type
    from visitors
    left join products
        on visitors.last_viewed_sku = products.sku
)

select * from final

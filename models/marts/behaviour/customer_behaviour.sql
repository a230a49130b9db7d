with

customers as (
    select * from {{ ref('int_customers_web_aggregated') }}
),

products as (
    select * from {{ ref('int_products_named') }}
),

final as (
    select
        customers.customer_id,
        customers.visitors,
        {{ as_of_date() }} as as_of_date,
        customers.first_visit_date,
        customers.last_visit_date,
        {{ days_between('customers.last_visit_date', as_of_date()) }} as days_since_last_visit,
        customers.visits,
        customers.page_views,
        customers.time_on_site_seconds,
        customers.conversions,
        customers.last_conversion_date,
        {{ days_between('customers.last_conversion_date', as_of_date()) }} as days_since_last_conversion,
        customers.distinct_pages_viewed,
        customers.distinct_products_viewed,
        customers.last_viewed_sku,
        products.product_name as last_viewed_product_name,
        customers.main_traffic_source,
        customers.main_device_type
    from customers
    left join products
        on customers.last_viewed_sku = products.sku
)

select * from final

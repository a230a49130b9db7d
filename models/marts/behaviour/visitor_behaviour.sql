with

sessions as (
    select * from {{ ref('int_sessions_attributed') }}
),

page_views as (
    select * from {{ ref('stg_shop__page_views') }}
),

products as (
    select * from {{ ref('int_products_named') }}
),

visitor_customers as (
    select
        visitor_id,
        customer_id,
        row_number() over (
            partition by visitor_id
            order by started_at desc, session_id desc
        ) as recency_rank
    from sessions
    where customer_id is not null
),

visits as (
    select
        visitor_id,
        min(started_date) as first_visit_date,
        max(started_date) as last_visit_date,
        count(*) as visits,
        cast(sum(coalesce(page_views, 0)) as {{ dbt.type_bigint() }}) as page_views,
        cast(sum(coalesce(duration_seconds, 0)) as {{ dbt.type_bigint() }}) as time_on_site_seconds,
        cast(sum(case when is_converted then 1 else 0 end) as {{ dbt.type_bigint() }}) as conversions,
        max(case when is_converted then started_date end) as last_conversion_date
    from sessions
    group by visitor_id
),

traffic_sources as (
    select
        visitor_id,
        traffic_source,
        row_number() over (
            partition by visitor_id
            order by count(*) desc, max(started_at) desc, traffic_source asc
        ) as source_rank
    from sessions
    where traffic_source is not null
    group by visitor_id, traffic_source
),

device_types as (
    select
        visitor_id,
        device_type,
        row_number() over (
            partition by visitor_id
            order by count(*) desc, max(started_at) desc, device_type asc
        ) as device_rank
    from sessions
    where device_type is not null
    group by visitor_id, device_type
),

visitor_page_views as (
    select
        sessions.visitor_id,
        page_views.page_url,
        page_views.sku,
        page_views.viewed_at
    from page_views
    inner join sessions
        on page_views.session_id = sessions.session_id
),

pages as (
    select
        visitor_id,
        count(distinct page_url) as distinct_pages_viewed,
        count(distinct sku) as distinct_products_viewed
    from visitor_page_views
    group by visitor_id
),

product_views as (
    select
        visitor_id,
        sku,
        row_number() over (
            partition by visitor_id
            order by viewed_at desc, sku asc
        ) as recency_rank
    from visitor_page_views
    where sku is not null
),

joined as (
    select
        visits.visitor_id,
        visitor_customers.customer_id,
        {{ as_of_date() }} as as_of_date,
        visits.first_visit_date,
        visits.last_visit_date,
        visits.visits,
        visits.page_views,
        visits.time_on_site_seconds,
        visits.conversions,
        visits.last_conversion_date,
        coalesce(pages.distinct_pages_viewed, 0) as distinct_pages_viewed,
        coalesce(pages.distinct_products_viewed, 0) as distinct_products_viewed,
        product_views.sku as last_viewed_sku,
        products.product_name as last_viewed_product_name,
        traffic_sources.traffic_source as main_traffic_source,
        device_types.device_type as main_device_type
    from visits
    left join visitor_customers
        on
            visits.visitor_id = visitor_customers.visitor_id
            and visitor_customers.recency_rank = 1
    left join pages
        on visits.visitor_id = pages.visitor_id
    left join product_views
        on
            visits.visitor_id = product_views.visitor_id
            and product_views.recency_rank = 1
    left join products
        on product_views.sku = products.sku
    left join traffic_sources
        on
            visits.visitor_id = traffic_sources.visitor_id
            and traffic_sources.source_rank = 1
    left join device_types
        on
            visits.visitor_id = device_types.visitor_id
            and device_types.device_rank = 1
),

final as (
    select
        visitor_id,
        customer_id,
        as_of_date,
        first_visit_date,
        last_visit_date,
        {{ days_between('last_visit_date', 'as_of_date') }} as days_since_last_visit,
        visits,
        page_views,
        time_on_site_seconds,
        conversions,
        last_conversion_date,
        {{ days_between('last_conversion_date', 'as_of_date') }} as days_since_last_conversion,
        distinct_pages_viewed,
        distinct_products_viewed,
        last_viewed_sku,
        last_viewed_product_name,
        main_traffic_source,
        main_device_type
    from joined
)

select * from final

{#- One row per visitor: their visits and page views over all history, without the columns that
    depend on as_of_date (those are added by marts.visitor_behaviour). Incremental by visitor:
    a run recomputes only the visitors tonight's sessions and page views touch
    (macros/utils/incremental_web.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ touched_rows_pre_hook(web_touched('visitor', 'visitor_id')) }}",
    )
}}

with

{{ web_activity_ctes(
    'visitor_id',
    ref('int_sessions_attributed'),
    ref('int_page_views_attributed'),
    web_touched('visitor', 'visitor_id'),
) }}

visitor_customers as (
    select
        visitor_id,
        max(visitor_customer_id) as customer_id
    from {{ ref('int_sessions_attributed') }}
    where {{ web_touched('visitor', 'visitor_id') }}
    group by visitor_id
),

final as (
    select
        web_activity.visitor_id,
        visitor_customers.customer_id,
        web_activity.first_visit_date,
        web_activity.last_visit_date,
        web_activity.visits,
        web_activity.page_views,
        web_activity.time_on_site_seconds,
        web_activity.conversions,
        web_activity.last_conversion_date,
        web_activity.distinct_pages_viewed,
        web_activity.distinct_products_viewed,
        web_activity.last_viewed_sku,
        web_activity.main_traffic_source,
        web_activity.main_device_type,
        {{ newest_staged_load([ref('stg_shop__sessions'), ref('stg_shop__page_views')]) }} as _load_id,
        {{ as_of_date() }} as _staged_as_of
    from web_activity
    left join visitor_customers
        on web_activity.visitor_id = visitor_customers.visitor_id
)

select * from final

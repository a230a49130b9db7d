{#- One row per customer with attributed visits: their visits and page views over all history,
    without the columns that depend on as_of_date (marts.customer_behaviour adds those; customer
    facts read the web columns from here). Incremental by customer: a run recomputes only the
    customers tonight's sessions and page views touch (macros/utils/incremental_web.sql).

    Built after int_visitors_aggregated, never beside it: each spills its aggregates over every
    page view to disk in a full build, and at millions of customers the two at once needed more
    disk than the warehouse itself (the large benchmark ran out of disk there). -#}
-- depends_on: {{ ref('int_visitors_aggregated') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ touched_rows_pre_hook(web_touched('customer', 'customer_id')) }}",
    )
}}

with

{{ web_activity_ctes(
    'customer_id',
    ref('int_sessions_attributed'),
    ref('int_page_views_attributed'),
    "customer_id is not null and " ~ web_touched('customer', 'customer_id'),
) }}

final as (
    select
        customer_id,
        visitors,
        first_visit_date,
        last_visit_date,
        visits,
        page_views,
        time_on_site_seconds,
        conversions,
        last_conversion_date,
        distinct_pages_viewed,
        distinct_products_viewed,
        last_viewed_sku,
        main_traffic_source,
        main_device_type,
        {{ newest_staged_load([ref('stg_shop__sessions'), ref('stg_shop__page_views')]) }} as _load_id,
        {{ as_of_date() }} as _staged_as_of
    from web_activity
)

select * from final

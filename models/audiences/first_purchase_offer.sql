{#- (2) Members who have never purchased but showed interest: NOT any purchase, AND at least
    `audience_first_purchase_min_page_views` page views AND at least
    `audience_first_purchase_min_seconds` seconds on the site over all their visits. -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

interested_prospects as (
    select * from profiles
    where
        is_member
        and not order_count > 0
        and page_views >= {{ number_var('audience_first_purchase_min_page_views') }}
        and time_on_site_seconds >= {{ number_var('audience_first_purchase_min_seconds') }}
),

final as (
    select
        customer_id,
        lifecycle_stage,
        lifecycle_stage_label_ja,
        page_views,
        time_on_site_seconds,
        distinct_products_viewed,
        last_visit_date,
        last_viewed_sku,
        last_viewed_product_name
    from interested_prospects
)

select * from final

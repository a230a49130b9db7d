{#- (1) Lapsed customers who came back to the site: in a lapsed RFM group OR a churned/dormant
    lifecycle stage, AND visited within the last `audience_win_back_visit_days` days. -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

lapsed_visitors as (
    select * from profiles
    where
        (
            rfm_group in {{ var_in_list('audience_win_back_rfm_groups') }}
            or lifecycle_stage in {{ var_in_list('audience_win_back_lifecycle_stages') }}
        )
        and days_since_last_visit < {{ number_var('audience_win_back_visit_days') }}
),

final as (
    select
        customer_id,
        rfm_group,
        rfm_group_label_ja,
        lifecycle_stage,
        lifecycle_stage_label_ja,
        segment_label_ja,
        days_since_last_purchase,
        last_visit_date,
        last_viewed_sku,
        last_viewed_product_name
    from lapsed_visitors
)

select * from final

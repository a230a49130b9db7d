{#- (6) The F2 scenario: customers whose first purchase was between
    `audience_thank_you_min_days` and `audience_thank_you_max_days` days before as_of_date
    (inclusive) get a thank-you and how-to mail. -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

new_customers as (
    select * from profiles
    where
        days_since_first_purchase >= {{ number_var('audience_thank_you_min_days') }}
        and days_since_first_purchase <= {{ number_var('audience_thank_you_max_days') }}
),

final as (
    select
        customer_id,
        first_purchase_date,
        days_since_first_purchase,
        order_count,
        lifecycle_stage,
        lifecycle_stage_label_ja,
        first_category,
        last_purchased_product_name
    from new_customers
)

select * from final

{#- (5) Members whose birthday falls in the month of as_of_date shifted by
    `audience_birthday_month_offset` months (0 = this month, 1 = next month). -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

birthday_members as (
    select * from profiles
    where
        is_member
        and birth_month = extract(
            month from {{ dbt.dateadd('month', number_var('audience_birthday_month_offset'), as_of_date()) }}
        )
),

final as (
    select
        customer_id,
        birth_month,
        member_rank,
        member_rank_label_ja,
        rfm_group_label_ja,
        segment_label_ja,
        last_purchased_product_name,
        last_viewed_sku
    from birthday_members
)

select * from final

{#- (3) Loyal customers of a high member rank: in a loyal RFM group OR the loyal lifecycle
    stage, AND a member rank at least `audience_early_access_min_rank` in the rank order of
    seeds/members/member_ranks.csv (default GOLD: GOLD and PLATINUM). -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

member_ranks as (
    select * from {{ ref('member_ranks') }}
),

minimum_rank as (
    select rank_order
    from member_ranks
    where member_rank = upper({{ string_var_literal('audience_early_access_min_rank') }})
),

loyal_high_rank as (
    select profiles.*
    from profiles
    inner join minimum_rank
        on profiles.member_rank_order >= minimum_rank.rank_order
    where
        profiles.rfm_group in {{ var_in_list('audience_early_access_rfm_groups') }}
        or profiles.lifecycle_stage in {{ var_in_list('audience_early_access_lifecycle_stages') }}
),

final as (
    select
        customer_id,
        member_rank,
        member_rank_label_ja,
        rfm_group,
        rfm_group_label_ja,
        lifecycle_stage_label_ja,
        segment_label_ja,
        last_purchased_product_name,
        last_viewed_sku
    from loyal_high_rank
)

select * from final

{#- (7) The catalogue-DM target: customers of the current term's top stable segments
    (segment_rank up to `audience_top_segments_max_rank`, default s1_top and s2_high), NOT new
    this term, who have NOT purchased in the term yet. -#}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

top_segment_non_purchasers as (
    select * from profiles
    where
        segment_rank <= {{ number_var('audience_top_segments_max_rank') }}
        and not is_new_this_term
        and not has_purchased_this_term
),

final as (
    select
        customer_id,
        segment_term_start,
        segment,
        segment_rank,
        segment_label_ja,
        rhythm_status_label_ja,
        expected_net_sales,
        rfm_group_label_ja,
        days_since_last_purchase,
        last_purchased_product_name
    from top_segment_non_purchasers
)

select * from final

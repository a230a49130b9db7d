{#- One row per known customer (members and customers with orders) with every non-personal
    attribute an audience may select on: purchases, RFM group, lifecycle stage, the current
    term's stable segment, web behaviour and member attributes. Audiences select from here. -#}

with

customer_facts as (
    select * from {{ ref('customer_facts') }}
),

customer_rfm as (
    select * from {{ ref('customer_rfm') }}
),

customer_lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

segment_members as (
    select * from {{ ref('stable_segment_members') }}
),

behaviour as (
    select * from {{ ref('customer_behaviour') }}
),

member_facts as (
    select * from {{ ref('member_facts') }}
),

last_purchases as (
    select * from {{ ref('int_customer_products_last_purchased') }}
),

current_segments as (
    select * from segment_members
    where is_current_term
),

final as (
    select
        customer_facts.customer_id,
        customer_facts.as_of_date,
        customer_facts.order_count,
        customer_facts.first_purchase_date,
        customer_facts.last_purchase_date,
        {{ days_between('customer_facts.first_purchase_date', 'customer_facts.as_of_date') }}
            as days_since_first_purchase,
        customer_facts.days_since_last_purchase,
        customer_facts.net_sales,
        customer_facts.most_bought_category,
        customer_facts.first_category,
        last_purchases.last_purchased_sku,
        last_purchases.last_purchased_product_name,
        customer_rfm.rfm_group,
        customer_rfm.rfm_group_label_ja,
        customer_rfm.rfm_group_label_en,
        customer_rfm.rfm_score,
        customer_lifecycle.lifecycle_stage,
        customer_lifecycle.lifecycle_stage_label_ja,
        customer_lifecycle.lifecycle_stage_label_en,
        current_segments.term_start as segment_term_start,
        current_segments.segment,
        current_segments.segment_rank,
        current_segments.segment_label_ja,
        current_segments.segment_label_en,
        current_segments.is_new_this_term,
        current_segments.rhythm_status_label_ja,
        current_segments.expected_net_sales,
        coalesce(current_segments.has_purchased_this_term, false) as has_purchased_this_term,
        behaviour.visits,
        behaviour.page_views,
        behaviour.time_on_site_seconds,
        behaviour.last_visit_date,
        behaviour.days_since_last_visit,
        behaviour.distinct_pages_viewed,
        behaviour.distinct_products_viewed,
        behaviour.last_viewed_sku,
        behaviour.last_viewed_product_name,
        member_facts.customer_id is not null as is_member,
        member_facts.registered_date,
        member_facts.age,
        member_facts.birth_month,
        member_facts.gender,
        member_facts.prefecture,
        member_facts.member_rank,
        member_facts.member_rank_order,
        member_facts.member_rank_label_ja,
        coalesce(member_facts.is_withdrawn, false) as is_withdrawn
    from customer_facts
    left join customer_rfm
        on customer_facts.customer_id = customer_rfm.customer_id
    left join customer_lifecycle
        on customer_facts.customer_id = customer_lifecycle.customer_id
    left join current_segments
        on customer_facts.customer_id = current_segments.customer_id
    left join behaviour
        on customer_facts.customer_id = behaviour.customer_id
    left join member_facts
        on customer_facts.customer_id = member_facts.customer_id
    left join last_purchases
        on customer_facts.customer_id = last_purchases.customer_id
)

select * from final

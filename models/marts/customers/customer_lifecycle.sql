with

rfm_history as (
    select * from {{ ref('customer_rfm_history') }}
),

final as (
    select
        customer_id,
        snapshot_date as as_of_date,
        lifecycle_stage,
        lifecycle_stage_label_ja,
        lifecycle_stage_label_en,
        order_count,
        recency_days,
        is_member,
        first_purchase_date,
        last_purchase_date
    from rfm_history
    where is_as_of_date
)

select * from final

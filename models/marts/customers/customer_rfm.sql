with

rfm_history as (
    select * from {{ ref('customer_rfm_history') }}
),

final as (
    select
        customer_id,
        snapshot_date as as_of_date,
        recency_days,
        frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        rfm_score,
        rfm_group,
        rfm_group_label_ja,
        rfm_group_label_en,
        rfm_group_sort_order,
        r_band,
        f_band,
        m_band,
        r_quintile_score,
        f_quintile_score,
        m_quintile_score,
        rfm_quintile_score,
        order_count,
        net_sales,
        last_purchase_date
    from rfm_history
    where
        is_as_of_date
        and order_count > 0
)

select * from final

{#- The backtest per term × method (stable_segment, rfm_group, rfm_score): top-share capture,
    Spearman rank correlation, label stability and monotonicity, and for each method the
    difference to the RFM total score (positive = ranks customers better than it). -#}

with

backtest as (
    select * from {{ ref('segment_backtest') }}
),

methods as (
    select
        term_start,
        term_end,
        method,
        count(*) as groups,
        sum(customers) as customers,
        sum(purchasers) as purchasers,
        sum(realized_net_sales) as realized_net_sales,
        max(top_share) as top_share,
        max(top_share_capture) as top_share_capture,
        max(spearman_rank_correlation) as spearman_rank_correlation,
        max(label_change_share) as label_change_share,
        min(case when is_monotonic then 1 else 0 end) = 1 as is_monotonic
    from backtest
    group by term_start, term_end, method
),

rfm_score as (
    select
        term_start,
        top_share_capture,
        spearman_rank_correlation
    from methods
    where method = 'rfm_score'
),

final as (
    select
        methods.term_start,
        methods.term_end,
        methods.method,
        cast(methods.groups as {{ dbt.type_int() }}) as groups,
        cast(methods.customers as {{ dbt.type_int() }}) as customers,
        {{ rounded('methods.purchasers * 1.0 / methods.customers', 4) }} as purchase_rate,
        {{ rounded('methods.realized_net_sales / methods.customers', 2) }} as realized_net_sales_per_customer,
        methods.top_share,
        methods.top_share_capture,
        methods.spearman_rank_correlation,
        methods.label_change_share,
        methods.is_monotonic,
        methods.top_share_capture - rfm_score.top_share_capture as top_share_capture_vs_rfm_score,
        methods.spearman_rank_correlation - rfm_score.spearman_rank_correlation as spearman_vs_rfm_score
    from methods
    left join rfm_score
        on methods.term_start = rfm_score.term_start
)

select * from final

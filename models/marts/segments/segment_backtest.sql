{#- Backtest: for every complete term (six full months of outcome on or before as_of_date),
    the six-month-stable segments, the RFM groups and the RFM total score as of the term
    start against what the same customers actually bought in the term. One row per term ×
    method × group, with the method's summary figures repeated on each of its rows (also in
    segment_backtest_summary). The segments are recomputed with the current settings
    (int_customer_terms_segmented), RFM is read from the month-end history. -#}
{%- set top_share = number_var('segment_backtest_top_share', 0.2, 0.01, 1) -%}

with

segmented as (
    select * from {{ ref('int_customer_terms_segmented') }}
    where scope_code = '_all'
),

terms as (
    select * from {{ ref('int_segment_terms_generated') }}
    where is_complete
),

rfm_history as (
    select * from {{ ref('customer_rfm_history') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

population as (
    select
        segmented.term_start,
        segmented.term_end,
        segmented.customer_id,
        segmented.segment,
        segmented.segment_rank,
        segmented.segment_label_ja,
        segmented.segment_label_en,
        segmented.expected_net_sales
    from segmented
    inner join terms
        on segmented.term_start = terms.term_start
),

outcomes as (
    select
        population.term_start,
        population.customer_id,
        count(orders.order_id) as term_orders,
        coalesce(sum(orders.net_amount), 0) as realized_net_sales
    from population
    left join orders
        on
            population.customer_id = orders.customer_id
            and population.term_start <= orders.ordered_date
            and population.term_end > orders.ordered_date
            and orders.is_purchase
    group by population.term_start, population.customer_id
),

rfm_at_start as (
    select
        population.term_start,
        population.customer_id,
        rfm_history.rfm_group,
        rfm_history.rfm_group_sort_order,
        rfm_history.rfm_group_label_ja,
        rfm_history.rfm_group_label_en,
        rfm_history.rfm_score
    from population
    left join rfm_history
        on
            population.customer_id = rfm_history.customer_id
            and rfm_history.snapshot_date = {{ dbt.dateadd('day', -1, 'population.term_start') }}
),

rfm_within_term as (
    select
        population.term_start,
        population.customer_id,
        count(distinct coalesce(rfm_history.rfm_group, '(none)')) as rfm_groups_seen,
        count(distinct coalesce(rfm_history.rfm_score, 0)) as rfm_scores_seen
    from population
    inner join rfm_history
        on
            population.customer_id = rfm_history.customer_id
            and rfm_history.snapshot_date >= {{ dbt.dateadd('day', -1, 'population.term_start') }}
            and rfm_history.snapshot_date < {{ dbt.dateadd('day', -1, 'population.term_end') }}
    group by population.term_start, population.customer_id
),

stable_segment_rankings as (
    select
        term_start,
        term_end,
        customer_id,
        'stable_segment' as method,
        segment as group_code,
        segment_rank as group_rank,
        segment_label_ja as group_label_ja,
        segment_label_en as group_label_en,
        expected_net_sales,
        0 as label_changed
    from population
),

rfm_at_start_with_changes as (
    select
        population.term_start,
        population.term_end,
        population.customer_id,
        rfm_at_start.rfm_group,
        rfm_at_start.rfm_group_sort_order,
        rfm_at_start.rfm_group_label_ja,
        rfm_at_start.rfm_group_label_en,
        rfm_at_start.rfm_score,
        rfm_within_term.rfm_groups_seen,
        rfm_within_term.rfm_scores_seen
    from population
    left join rfm_at_start
        on
            population.term_start = rfm_at_start.term_start
            and population.customer_id = rfm_at_start.customer_id
    left join rfm_within_term
        on
            population.term_start = rfm_within_term.term_start
            and population.customer_id = rfm_within_term.customer_id
),

rfm_group_rankings as (
    select
        term_start,
        term_end,
        customer_id,
        'rfm_group' as method,
        coalesce(rfm_group, '(none)') as group_code,
        coalesce(rfm_group_sort_order, 999) as group_rank,
        coalesce(rfm_group_label_ja, 'なし') as group_label_ja,
        coalesce(rfm_group_label_en, 'no group') as group_label_en,
        cast(null as {{ dbt.type_numeric() }}) as expected_net_sales,
        case when rfm_groups_seen > 1 then 1 else 0 end as label_changed
    from rfm_at_start_with_changes
),

rfm_score_rankings as (
    select
        term_start,
        term_end,
        customer_id,
        'rfm_score' as method,
        coalesce(cast(rfm_score as {{ dbt.type_string() }}), '(none)') as group_code,
        coalesce(16 - rfm_score, 999) as group_rank,
        coalesce(
            {{ dbt.concat(["'RFMスコア '", "cast(rfm_score as " ~ dbt.type_string() ~ ")"]) }},
            'なし'
        ) as group_label_ja,
        coalesce(
            {{ dbt.concat(["'RFM score '", "cast(rfm_score as " ~ dbt.type_string() ~ ")"]) }},
            'no score'
        ) as group_label_en,
        cast(null as {{ dbt.type_numeric() }}) as expected_net_sales,
        case when rfm_scores_seen > 1 then 1 else 0 end as label_changed
    from rfm_at_start_with_changes
),

rankings as (
    select * from stable_segment_rankings
    union all
    select * from rfm_group_rankings
    union all
    select * from rfm_score_rankings
),

customer_outcomes as (
    select
        rankings.*,
        outcomes.term_orders,
        outcomes.realized_net_sales,
        {{ average_rank('0 - rankings.group_rank', 'rankings.term_start, rankings.method') }}
            as order_rank,
        {{ average_rank('outcomes.realized_net_sales', 'rankings.term_start, rankings.method') }}
            as outcome_rank
    from rankings
    inner join outcomes
        on
            rankings.term_start = outcomes.term_start
            and rankings.customer_id = outcomes.customer_id
),

method_correlations as (
    select
        term_start,
        method,
        corr(order_rank, outcome_rank) as spearman_rank_correlation,
        avg(label_changed * 1.0) as label_change_share
    from customer_outcomes
    group by term_start, method
),

group_totals as (
    select
        term_start,
        term_end,
        method,
        group_code,
        group_rank,
        group_label_ja,
        group_label_en,
        count(*) as customers,
        sum(case when term_orders > 0 then 1 else 0 end) as purchasers,
        sum(realized_net_sales) as realized_net_sales,
        sum(expected_net_sales) as expected_net_sales
    from customer_outcomes
    group by
        term_start,
        term_end,
        method,
        group_code,
        group_rank,
        group_label_ja,
        group_label_en
),

cumulated as (
    select
        *,
        realized_net_sales / customers as realized_net_sales_per_customer,
        sum(customers) over (partition by term_start, method) as method_customers,
        sum(realized_net_sales) over (partition by term_start, method) as method_net_sales,
        coalesce(
            sum(customers) over (
                partition by term_start, method
                order by group_rank
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as customers_above
    from group_totals
),

captured as (
    select
        *,
        case
            when {{ top_share }} * method_customers <= customers_above then 0
            when {{ top_share }} * method_customers >= customers_above + customers then realized_net_sales
            else realized_net_sales * ({{ top_share }} * method_customers - customers_above) / customers
        end as top_share_net_sales,
        case
            when
                realized_net_sales / customers > lag(realized_net_sales / customers) over (
                    partition by term_start, method order by group_rank
                )
                then 1
            else 0
        end as rises_from_previous_group
    from cumulated
),

method_totals as (
    select
        term_start,
        method,
        sum(top_share_net_sales) / nullif(max(method_net_sales), 0) as top_share_capture,
        sum(rises_from_previous_group) = 0 as is_monotonic
    from captured
    group by term_start, method
),

final as (
    select
        captured.term_start,
        captured.term_end,
        captured.method,
        captured.group_code,
        cast(captured.group_rank as {{ dbt.type_int() }}) as group_rank,
        captured.group_label_ja,
        captured.group_label_en,
        cast(captured.customers as {{ dbt.type_int() }}) as customers,
        {{ rounded('captured.customers * 1.0 / captured.method_customers', 4) }} as customer_share,
        cast(captured.purchasers as {{ dbt.type_int() }}) as purchasers,
        {{ rounded('captured.purchasers * 1.0 / captured.customers', 4) }} as purchase_rate,
        cast(captured.realized_net_sales as {{ dbt.type_numeric() }}) as realized_net_sales,
        {{ rounded('captured.realized_net_sales_per_customer', 2) }} as realized_net_sales_per_customer,
        {{ rounded('captured.expected_net_sales / captured.customers', 2) }}
            as expected_net_sales_per_customer,
        {{ rounded(top_share, 4) }} as top_share,
        {{ rounded('method_totals.top_share_capture', 4) }} as top_share_capture,
        {{ rounded('method_correlations.spearman_rank_correlation', 4) }} as spearman_rank_correlation,
        {{ rounded('method_correlations.label_change_share', 4) }} as label_change_share,
        method_totals.is_monotonic
    from captured
    inner join method_totals
        on
            captured.term_start = method_totals.term_start
            and captured.method = method_totals.method
    inner join method_correlations
        on
            captured.term_start = method_correlations.term_start
            and captured.method = method_correlations.method
)

select * from final

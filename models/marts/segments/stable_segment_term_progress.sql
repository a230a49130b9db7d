{#- Term progress per term × segment (including "new this term"): customers, who has
    purchased so far and who has not, term-to-date orders and net sales against the frozen
    expectation, and the purchase rate against the same segment in earlier terms at the
    same point of the term (same number of days elapsed). For "new this term" every customer
    has purchased by definition: compare previous_term_purchasers (new customers by the same
    day of the previous term) instead of the rates, which are left empty. -#}

with

members as (
    select * from {{ ref('stable_segment_members') }}
),

segment_terms as (
    select
        term_start,
        term_end,
        segment,
        segment_rank,
        segment_label_ja,
        segment_label_en,
        is_new_this_term,
        is_current_term,
        count(*) as customers,
        sum(case when has_purchased_this_term then 1 else 0 end) as purchasers,
        sum(term_orders) as term_orders,
        sum(term_net_sales) as term_net_sales,
        sum(expected_net_sales) as expected_net_sales
    from members
    group by
        term_start,
        term_end,
        segment,
        segment_rank,
        segment_label_ja,
        segment_label_en,
        is_new_this_term,
        is_current_term
),

elapsed as (
    select
        *,
        {{ days_between(
            'term_start',
            'case when term_end <= ' ~ dbt.dateadd('day', 1, as_of_date())
            ~ ' then term_end else ' ~ dbt.dateadd('day', 1, as_of_date()) ~ ' end',
        ) }} as days_elapsed
    from segment_terms
),

earlier_terms as (
    select
        elapsed.term_start,
        elapsed.segment,
        earlier.term_start as earlier_term_start,
        count(*) as customers,
        sum(
            case when earlier.days_to_first_purchase < elapsed.days_elapsed then 1 else 0 end
        ) as purchasers_same_point
    from elapsed
    inner join members as earlier
        on
            elapsed.segment = earlier.segment
            and elapsed.term_start > earlier.term_start
    group by elapsed.term_start, elapsed.segment, earlier.term_start
),

earlier_ranked as (
    select
        *,
        row_number() over (
            partition by term_start, segment order by earlier_term_start desc
        ) as recency_rank
    from earlier_terms
),

earlier_totals as (
    select
        term_start,
        segment,
        count(*) as earlier_term_count,
        sum(case when recency_rank = 1 then purchasers_same_point end) as previous_term_purchasers,
        sum(purchasers_same_point) * 1.0 / sum(customers) as earlier_terms_purchase_rate,
        sum(
            case when recency_rank = 1 then purchasers_same_point end
        ) * 1.0 / sum(case when recency_rank = 1 then customers end) as previous_term_purchase_rate
    from earlier_ranked
    group by term_start, segment
),

final as (
    select
        elapsed.term_start,
        elapsed.term_end,
        elapsed.segment,
        elapsed.segment_rank,
        elapsed.segment_label_ja,
        elapsed.segment_label_en,
        elapsed.is_new_this_term,
        elapsed.is_current_term,
        elapsed.days_elapsed,
        cast(elapsed.customers as {{ dbt.type_int() }}) as customers,
        cast(elapsed.purchasers as {{ dbt.type_int() }}) as purchasers,
        cast(elapsed.customers - elapsed.purchasers as {{ dbt.type_int() }}) as non_purchasers,
        {{ rounded('elapsed.purchasers * 1.0 / elapsed.customers', 4) }} as purchase_rate,
        cast(elapsed.term_orders as {{ dbt.type_int() }}) as term_orders,
        cast(elapsed.term_net_sales as {{ dbt.type_numeric() }}) as term_net_sales,
        {{ rounded('elapsed.term_net_sales / elapsed.customers', 2) }} as term_net_sales_per_customer,
        {{ rounded('elapsed.expected_net_sales', 2) }} as expected_net_sales,
        cast(coalesce(earlier_totals.earlier_term_count, 0) as {{ dbt.type_int() }}) as earlier_term_count,
        cast(earlier_totals.previous_term_purchasers as {{ dbt.type_int() }}) as previous_term_purchasers,
        case
            when not elapsed.is_new_this_term
                then {{ rounded('earlier_totals.previous_term_purchase_rate', 4) }}
        end as previous_term_purchase_rate,
        case
            when not elapsed.is_new_this_term
                then {{ rounded('earlier_totals.earlier_terms_purchase_rate', 4) }}
        end as earlier_terms_purchase_rate,
        case
            when not elapsed.is_new_this_term
                then {{ rounded(
                    'elapsed.purchasers * 1.0 / elapsed.customers - earlier_totals.previous_term_purchase_rate', 4
                ) }}
        end as purchase_rate_change_vs_previous_term
    from elapsed
    left join earlier_totals
        on
            elapsed.term_start = earlier_totals.term_start
            and elapsed.segment = earlier_totals.segment
)

select * from final

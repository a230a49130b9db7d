{#- Every customer of every written term with their frozen segment, plus the customers who
    first bought during the term ("new this term", not in the frozen table), and whether
    each has purchased in the term so far: the targeting table (e.g. the non-purchasers of
    the top segments are the DM target). Purchases count up to as_of_date for the current
    term and to the term's end for past terms. -#}

with

stable_segments as (
    select * from {{ ref('stable_segments') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

segment_definitions as (
    select * from {{ ref('segment_definitions') }}
),

new_segment as (
    select * from segment_definitions
    where is_new_this_term
),

written_terms as (
    select distinct
        term_start,
        term_end
    from stable_segments
),

term_purchases as (
    select
        written_terms.term_start,
        orders.customer_id,
        orders.order_id,
        orders.ordered_date,
        orders.net_amount
    from written_terms
    inner join orders
        on
            written_terms.term_start <= orders.ordered_date
            and written_terms.term_end > orders.ordered_date
    where
        orders.is_purchase
        and not orders.is_guest
),

purchases_per_customer as (
    select
        term_start,
        customer_id,
        count(*) as term_orders,
        sum(net_amount) as term_net_sales,
        min(ordered_date) as first_term_purchase_date
    from term_purchases
    group by term_start, customer_id
),

assigned as (
    select
        term_start,
        term_end,
        customer_id,
        segment,
        segment_rank,
        segment_label_ja,
        segment_label_en,
        false as is_new_this_term,
        rhythm_status,
        rhythm_status_label_ja,
        rhythm_status_label_en,
        expected_net_sales
    from stable_segments
),

new_this_term as (
    select
        written_terms.term_start,
        written_terms.term_end,
        purchases_per_customer.customer_id,
        new_segment.segment,
        new_segment.segment_rank,
        new_segment.label_ja as segment_label_ja,
        new_segment.label_en as segment_label_en,
        true as is_new_this_term,
        cast(null as {{ dbt.type_string() }}) as rhythm_status,
        cast(null as {{ dbt.type_string() }}) as rhythm_status_label_ja,
        cast(null as {{ dbt.type_string() }}) as rhythm_status_label_en,
        cast(null as {{ dbt.type_numeric() }}) as expected_net_sales
    from purchases_per_customer
    inner join written_terms
        on purchases_per_customer.term_start = written_terms.term_start
    cross join new_segment
    left join stable_segments
        on
            purchases_per_customer.term_start = stable_segments.term_start
            and purchases_per_customer.customer_id = stable_segments.customer_id
    where stable_segments.customer_id is null
),

members as (
    select * from assigned
    union all
    select * from new_this_term
),

final as (
    select
        members.term_start,
        members.term_end,
        members.customer_id,
        members.segment,
        members.segment_rank,
        members.segment_label_ja,
        members.segment_label_en,
        members.is_new_this_term,
        members.rhythm_status,
        members.rhythm_status_label_ja,
        members.rhythm_status_label_en,
        members.expected_net_sales,
        (
            members.term_start <= {{ as_of_date() }}
            and members.term_end > {{ as_of_date() }}
        ) as is_current_term,
        purchases_per_customer.customer_id is not null as has_purchased_this_term,
        purchases_per_customer.first_term_purchase_date,
        {{ days_between('members.term_start', 'purchases_per_customer.first_term_purchase_date') }}
            as days_to_first_purchase,
        cast(coalesce(purchases_per_customer.term_orders, 0) as {{ dbt.type_int() }}) as term_orders,
        cast(coalesce(purchases_per_customer.term_net_sales, 0) as {{ dbt.type_numeric() }}) as term_net_sales
    from members
    left join purchases_per_customer
        on
            members.term_start = purchases_per_customer.term_start
            and members.customer_id = purchases_per_customer.customer_id
)

select * from final

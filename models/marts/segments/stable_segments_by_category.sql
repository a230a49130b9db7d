{#- Segment on MD: the six-month-stable segments computed within each category or brand of
    the seed segment_categories, from the customer's purchases of that category or brand
    only. One row per term × category × customer who bought it before the term start,
    written once per term and category and never changed afterwards (incremental, append);
    a category added to the seed later gets all its terms on the next run. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

with

segmented as (
    select * from {{ ref('int_customer_terms_segmented') }}
    where scope_code <> '_all'
),

segment_categories as (
    select * from {{ ref('segment_categories') }}
),

{% if is_incremental() %}
written_terms as (
    select distinct
        scope_code,
        term_start
    from {{ this }}
),
{% endif %}

unwritten as (
    select segmented.*
    from segmented
    {% if is_incremental() %}
        left join written_terms
            on
                segmented.scope_code = written_terms.scope_code
                and segmented.term_start = written_terms.term_start
        where written_terms.term_start is null
    {% endif %}
),

final as (
    select
        unwritten.term_start,
        unwritten.term_end,
        unwritten.scope_code,
        segment_categories.dimension,
        segment_categories.dimension_value,
        unwritten.customer_id,
        unwritten.segment,
        unwritten.segment_rank,
        unwritten.segment_label_ja,
        unwritten.segment_label_en,
        unwritten.rhythm_status,
        unwritten.rhythm_status_label_ja,
        unwritten.rhythm_status_label_en,
        unwritten.expected_net_sales,
        unwritten.expected_index,
        unwritten.customer_share_above,
        unwritten.expected_purchase_days,
        unwritten.still_buying_chance,
        unwritten.pace_purchase_days,
        unwritten.spend_per_purchase_day,
        unwritten.own_cycle_days,
        unwritten.overdue_ratio,
        unwritten.interval_cv,
        unwritten.days_silent,
        unwritten.days_known,
        unwritten.purchase_days,
        unwritten.net_sales,
        unwritten.first_purchase_date,
        unwritten.last_purchase_date,
        {{ as_of_date() }} as assigned_as_of_date
    from unwritten
    inner join segment_categories
        on unwritten.scope_code = segment_categories.scope_code
)

select * from final

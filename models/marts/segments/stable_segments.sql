{#- Six-month-stable segments of the whole shop: one row per term × customer with purchases
    before the term start, written once when the term starts and never changed afterwards
    (incremental, append): a term already in the table is not recomputed, whatever data
    arrives later. Only a full refresh recomputes every term from the data as it is then. -#}
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
    where scope_code = '_all'
),

{% if is_incremental() %}
written_terms as (
    select distinct term_start
    from {{ this }}
),
{% endif %}

unwritten as (
    select segmented.*
    from segmented
    {% if is_incremental() %}
        left join written_terms
            on segmented.term_start = written_terms.term_start
        where written_terms.term_start is null
    {% endif %}
),

final as (
    select
        term_start,
        term_end,
        customer_id,
        segment,
        segment_rank,
        segment_label_ja,
        segment_label_en,
        rhythm_status,
        rhythm_status_label_ja,
        rhythm_status_label_en,
        expected_net_sales,
        expected_index,
        customer_share_above,
        expected_purchase_days,
        still_buying_chance,
        pace_purchase_days,
        spend_per_purchase_day,
        own_cycle_days,
        overdue_ratio,
        interval_cv,
        mean_interval_days,
        days_silent,
        days_known,
        purchase_days,
        purchase_orders,
        placed_orders,
        refunded_orders,
        net_sales,
        refunded_amount,
        first_purchase_date,
        last_purchase_date,
        {{ as_of_date() }} as assigned_as_of_date
    from unwritten
)

select * from final

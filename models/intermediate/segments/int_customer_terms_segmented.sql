{#- The segment rules: for every customer with purchases before a term start (per scope),
    their expected net purchasing in the term, computed from that history only, their rhythm
    status, and the segment it puts them in. Recomputed from the current data on every run
    (the frozen assignments are in marts.stable_segments and stable_segments_by_category).
    Incremental by term (macros/utils/incremental_terms.sql): a run segments only the terms whose
    profiles were written since it last segmented them, and every term after a change of the
    rules (this SQL, the seeds, the vars). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=[
            'stable_segment_prior_cycle_days',
            'stable_segment_prior_weight',
            'stable_segment_spend_prior_weight',
            'stable_segment_regularity_weight',
            'stable_segment_term_start_months',
        ],
        pre_hook="{{ segmented_terms_pre_hook(ref('int_customer_terms_profiled')) }}",
    )
}}
{%- set prior_cycle_days = number_var('stable_segment_prior_cycle_days', 90, 1) -%}
{%- set prior_weight = number_var('stable_segment_prior_weight', 0.5, 0.01) -%}
{%- set spend_prior_weight = number_var('stable_segment_spend_prior_weight', 3, 0) -%}
{%- set regularity_weight = number_var('stable_segment_regularity_weight', 0.5, 0, 0.9) -%}

with

profiles as (
    select * from {{ ref('int_customer_terms_profiled') }}
    {{ terms_not_written() }}
),

terms as (
    select * from {{ ref('int_segment_terms_generated') }}
),

still_buying_chances as (
    select * from {{ ref('segment_still_buying_chances') }}
),

rhythm_statuses as (
    select * from {{ ref('segment_rhythm_statuses') }}
),

segment_definitions as (
    select * from {{ ref('segment_definitions') }}
    where not is_new_this_term
),

scope_spend as (
    select
        term_start,
        scope_code,
        sum(case when net_sales > 0 then net_sales else 0 end)
        / sum(purchase_days) as shop_spend_per_purchase_day
    from profiles
    group by term_start, scope_code
),

cycles as (
    select
        profiles.*,
        terms.term_end,
        terms.term_days,
        scope_spend.shop_spend_per_purchase_day,
        (profiles.active_span_days + {{ prior_weight }} * {{ prior_cycle_days }})
        / (profiles.purchase_days - 1 + {{ prior_weight }}) as own_cycle_days,
        1 + {{ regularity_weight }} * (coalesce(profiles.interval_cv, 1) - 1) as irregularity_factor
    from profiles
    inner join terms
        on profiles.term_start = terms.term_start
    inner join scope_spend
        on
            profiles.term_start = scope_spend.term_start
            and profiles.scope_code = scope_spend.scope_code
),

overdue as (
    select
        *,
        days_silent / (own_cycle_days * irregularity_factor) as overdue_ratio,
        term_days * (purchase_days - 1 + {{ prior_weight }})
        / (days_known + {{ prior_weight }} * {{ prior_cycle_days }}) as pace_purchase_days,
        (
            case when net_sales > 0 then net_sales else 0 end
            + {{ spend_prior_weight }} * shop_spend_per_purchase_day
        )
        / (purchase_days + {{ spend_prior_weight }}) as spend_per_purchase_day
    from cycles
),

chanced as (
    select
        overdue.*,
        still_buying_chances.still_buying_chance,
        rhythm_statuses.rhythm_status,
        rhythm_statuses.label_ja as rhythm_status_label_ja,
        rhythm_statuses.label_en as rhythm_status_label_en
    from overdue
    left join still_buying_chances
        on
            {{ in_band(
                'overdue.purchase_days', 'still_buying_chances', 'purchase_days_lower', 'purchase_days_upper'
            ) }}
            and {{ in_band(
                'overdue.overdue_ratio', 'still_buying_chances', 'overdue_lower', 'overdue_upper'
            ) }}
    left join rhythm_statuses
        on {{ in_band('overdue.overdue_ratio', 'rhythm_statuses', 'overdue_lower', 'overdue_upper') }}
),

expected as (
    select
        *,
        still_buying_chance * pace_purchase_days as expected_purchase_days,
        still_buying_chance * pace_purchase_days * spend_per_purchase_day as expected_net_sales
    from chanced
),

ranked as (
    select
        *,
        expected_net_sales
        / nullif(avg(expected_net_sales) over (partition by term_start, scope_code), 0) as expected_index,
        (rank() over (partition by term_start, scope_code order by expected_net_sales desc) - 1)
        * 1.0 / count(*) over (partition by term_start, scope_code) as customer_share_above
    from expected
),

matched as (
    select
        ranked.term_start,
        ranked.scope_code,
        ranked.customer_id,
        segment_definitions.segment,
        segment_definitions.segment_rank,
        segment_definitions.label_ja as segment_label_ja,
        segment_definitions.label_en as segment_label_en,
        row_number() over (
            partition by ranked.term_start, ranked.scope_code, ranked.customer_id
            order by segment_definitions.segment_rank
        ) as match_number
    from ranked
    inner join segment_definitions
        on
            (
                segment_definitions.max_customer_share is null
                or ranked.customer_share_above < segment_definitions.max_customer_share
            )
            and (
                segment_definitions.min_expected_index is null
                or ranked.expected_index >= segment_definitions.min_expected_index
            )
),

final as (
    select
        ranked.term_start,
        ranked.term_end,
        ranked.scope_code,
        ranked.customer_id,
        matched.segment,
        matched.segment_rank,
        matched.segment_label_ja,
        matched.segment_label_en,
        ranked.rhythm_status,
        ranked.rhythm_status_label_ja,
        ranked.rhythm_status_label_en,
        ranked.first_purchase_date,
        ranked.last_purchase_date,
        ranked.last_shipped_date,
        ranked.placed_orders,
        ranked.purchase_orders,
        ranked.refunded_orders,
        ranked.fully_refunded_orders,
        ranked.purchase_days,
        ranked.gross_sales,
        ranked.refunded_amount,
        ranked.net_sales,
        ranked.days_known,
        ranked.days_silent,
        ranked.mean_interval_days,
        ranked.interval_cv,
        {{ rounded('ranked.own_cycle_days', 2) }} as own_cycle_days,
        {{ rounded('ranked.overdue_ratio', 4) }} as overdue_ratio,
        ranked.still_buying_chance,
        {{ rounded('ranked.pace_purchase_days', 4) }} as pace_purchase_days,
        {{ rounded('ranked.spend_per_purchase_day', 2) }} as spend_per_purchase_day,
        {{ rounded('ranked.expected_purchase_days', 4) }} as expected_purchase_days,
        {{ rounded('ranked.expected_net_sales', 2) }} as expected_net_sales,
        {{ rounded('ranked.expected_index', 4) }} as expected_index,
        {{ rounded('ranked.customer_share_above', 6) }} as customer_share_above,
        ranked._profiled_at,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from ranked
    left join matched
        on
            ranked.term_start = matched.term_start
            and ranked.scope_code = matched.scope_code
            and ranked.customer_id = matched.customer_id
            and matched.match_number = 1
)

select * from final

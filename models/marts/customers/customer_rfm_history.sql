{#- Incremental: the rows of past month ends are written once and kept; each run adds the
    month ends not yet in the table and replaces the as_of_date rows. A change of the rules
    (this SQL, the band, group, score and stage seeds, rfm_axes, rfm_window_months, and the SQL
    and vars of the month-end snapshots it reads) recomputes every row
    (macros/utils/snapshot_history.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=['rfm_axes', 'rfm_window_months', 'plausible_order_total_max_yen'],
        rules_models=['int_customer_months_snapshotted', 'int_orders_enriched', 'int_returns_capped'],
        pre_hook="{{ snapshot_history_pre_hook() }}",
    )
}}

{%- set axes = var('rfm_axes') -%}
{%- set axis_bands = {
    'rf': ('r_band', 'f_band'),
    'fm': ('f_band', 'm_band'),
    'rm': ('r_band', 'm_band'),
} -%}
{%- if axes not in axis_bands -%}
    {{ exceptions.raise_compiler_error("var rfm_axes must be one of rf, fm, rm; got '" ~ axes ~ "'") }}
{%- endif -%}
{%- set row_band, column_band = axis_bands[axes] -%}

with

rfm_values as (
    select * from {{ ref('int_customer_rfm_values_unioned') }}
    {{ snapshot_dates_not_written(ref('int_customer_months_snapshotted')) }}
),

recency_bands as (
    select * from {{ ref('rfm_recency_bands') }}
),

frequency_bands as (
    select * from {{ ref('rfm_frequency_bands') }}
),

monetary_bands as (
    select * from {{ ref('rfm_monetary_bands') }}
),

group_map as (
    select * from {{ ref('rfm_group_map') }}
    where axes = '{{ axes }}'
),

rfm_groups as (
    select * from {{ ref('rfm_groups') }}
),

score_bands as (
    select * from {{ ref('rfm_score_bands') }}
),

lifecycle_stages as (
    select * from {{ ref('lifecycle_stages') }}
),

banded as (
    select
        rfm_values.*,
        recency_bands.band_code as r_band,
        frequency_bands.band_code as f_band,
        monetary_bands.band_code as m_band
    from rfm_values
    left join recency_bands
        on
            rfm_values.order_count > 0
            and {{ in_band('rfm_values.recency_days', 'recency_bands') }}
    left join frequency_bands
        on
            rfm_values.order_count > 0
            and {{ in_band('rfm_values.frequency', 'frequency_bands') }}
    left join monetary_bands
        on
            rfm_values.order_count > 0
            and {{ in_band('greatest(rfm_values.monetary, 0)', 'monetary_bands') }}
),

grouped as (
    select
        banded.*,
        group_map.rfm_group,
        rfm_groups.sort_order as rfm_group_sort_order,
        rfm_groups.label_ja as rfm_group_label_ja,
        rfm_groups.label_en as rfm_group_label_en
    from banded
    left join group_map
        on
            banded.{{ row_band }} = group_map.row_band
            and banded.{{ column_band }} = group_map.column_band
    left join rfm_groups
        on group_map.rfm_group = rfm_groups.rfm_group
),

scored as (
    select
        grouped.*,
        recency_scores.score as r_score,
        frequency_scores.score as f_score,
        monetary_scores.score as m_score
    from grouped
    left join score_bands as recency_scores
        on
            grouped.order_count > 0
            and recency_scores.axis = 'recency'
            and {{ in_band('grouped.recency_days', 'recency_scores') }}
    left join score_bands as frequency_scores
        on
            grouped.order_count > 0
            and frequency_scores.axis = 'frequency'
            and {{ in_band('grouped.frequency', 'frequency_scores') }}
    left join score_bands as monetary_scores
        on
            grouped.order_count > 0
            and monetary_scores.axis = 'monetary'
            and {{ in_band('greatest(grouped.monetary, 0)', 'monetary_scores') }}
),

{# from here on one linear chain, each step read once: DuckDB materialises a CTE that two
    steps read, and at large the history is tens of millions of wide rows. Quintiles rank
    purchasing customers only (the window's partition separates them; others get none). #}
quintiles as (
    select
        *,
        case
            when order_count > 0
                then least(5, 1 + floor(5 * percent_rank() over (
                        partition by snapshot_date, order_count > 0 order by recency_days desc
                    )))
        end as r_quintile_score,
        case
            when order_count > 0
                then least(5, 1 + floor(5 * percent_rank() over (
                        partition by snapshot_date, order_count > 0 order by frequency asc
                    )))
        end as f_quintile_score,
        case
            when order_count > 0
                then least(5, 1 + floor(5 * percent_rank() over (
                        partition by snapshot_date, order_count > 0 order by monetary asc
                    )))
        end as m_quintile_score
    from scored
),

staged as (
    select
        quintiles.*,
        lifecycle_stages.lifecycle_stage,
        lifecycle_stages.label_ja as lifecycle_stage_label_ja,
        lifecycle_stages.label_en as lifecycle_stage_label_en,
        row_number() over (
            partition by quintiles.snapshot_date, quintiles.customer_id
            order by lifecycle_stages.priority asc
        ) as stage_rank
    from quintiles
    left join lifecycle_stages
        on
            {{ in_band(
                'quintiles.order_count', 'lifecycle_stages',
                'orders_lower_bound', 'orders_upper_bound'
            ) }}
            and (
                quintiles.order_count = 0
                or {{ in_band(
                    'quintiles.recency_days', 'lifecycle_stages',
                    'recency_lower_bound', 'recency_upper_bound'
                ) }}
            )
),

final as (
    select
        staged.snapshot_date,
        staged.customer_id,
        staged.is_as_of_date,
        staged.is_member,
        staged.first_purchase_date,
        staged.last_purchase_date,
        staged.order_count,
        staged.net_sales,
        staged.recency_days,
        staged.frequency,
        staged.monetary,
        staged.r_band,
        staged.f_band,
        staged.m_band,
        staged.rfm_group,
        staged.rfm_group_sort_order,
        staged.rfm_group_label_ja,
        staged.rfm_group_label_en,
        cast(staged.r_score as {{ dbt.type_int() }}) as r_score,
        cast(staged.f_score as {{ dbt.type_int() }}) as f_score,
        cast(staged.m_score as {{ dbt.type_int() }}) as m_score,
        cast(staged.r_score + staged.f_score + staged.m_score as {{ dbt.type_int() }})
            as rfm_score,
        cast(staged.r_quintile_score as {{ dbt.type_int() }}) as r_quintile_score,
        cast(staged.f_quintile_score as {{ dbt.type_int() }}) as f_quintile_score,
        cast(staged.m_quintile_score as {{ dbt.type_int() }}) as m_quintile_score,
        cast(
            staged.r_quintile_score + staged.f_quintile_score + staged.m_quintile_score
            as {{ dbt.type_int() }}
        ) as rfm_quintile_score,
        staged.lifecycle_stage,
        staged.lifecycle_stage_label_ja,
        staged.lifecycle_stage_label_en,
        {{ as_of_date() }} as _staged_as_of,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from staged
    where staged.stage_rank = 1
)

select * from final

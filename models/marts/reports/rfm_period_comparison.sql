{#- Period comparison (期間比較) per RFM group: one row per comparison and group. Default
    comparisons: the last complete month against the month before it and against the same
    month a year earlier; a "custom" pair of periods when the four comparison_* vars are set. -#}

{%- set as_of_value = as_of_date_value() -%}
{%- set flat_threshold_pct = number_var('comparison_flat_threshold_pct') -%}
{%- set custom_names = [
    'comparison_period_start', 'comparison_period_end', 'comparison_base_start', 'comparison_base_end',
] -%}
{%- set custom = {} -%}
{%- for name in custom_names -%}
    {%- set value = var(name, '') -%}
    {%- set value = '' if value is none else (value | string | trim) -%}
    {%- if value and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be YYYY-MM-DD or empty, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- do custom.update({name: value}) -%}
{%- endfor -%}
{%- set custom_given = custom.values() | select | list | length -%}
{%- if custom_given not in (0, 4) -%}
    {{ exceptions.raise_compiler_error(
        "set all four of " ~ custom_names | join(', ') ~ " for a custom period comparison, or none"
    ) }}
{%- endif -%}
{%- if custom_given == 4 -%}
    {%- for start_name, end_name in [
        ('comparison_period_start', 'comparison_period_end'),
        ('comparison_base_start', 'comparison_base_end'),
    ] -%}
        {%- set start_day = modules.datetime.date.fromisoformat(custom[start_name]) -%}
        {%- set end_day = modules.datetime.date.fromisoformat(custom[end_name]) -%}
        {%- if start_day > end_day -%}
            {{ exceptions.raise_compiler_error(start_name ~ " is after " ~ end_name) }}
        {%- endif -%}
        {%- if (end_day + modules.datetime.timedelta(days=1)).day != 1 and custom[end_name] < as_of_value -%}
            {{ exceptions.raise_compiler_error(
                end_name ~ " (" ~ custom[end_name] ~ ") must be a month end, or on or after as_of_date: "
                ~ "groups are read from the month-end snapshots"
            ) }}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- set measures = [
    'users',
    'cv_count',
    'net_sales',
    'avg_cumulative_net_sales',
    'average_order_value',
    'avg_cumulative_orders',
    'avg_days_since_last_purchase',
] -%}

with

rfm_history as (
    select * from {{ ref('customer_rfm_history') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

rfm_groups as (
    select * from {{ ref('rfm_groups') }}
),

calendar as (
    select
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1, as_of_date())) }} as date)
            as month_after_last_complete_month
),

comparisons as (
    select
        'previous_month' as comparison,
        cast({{ dbt.dateadd('month', -1, 'month_after_last_complete_month') }} as date) as period_start,
        cast({{ dbt.dateadd('day', -1, 'month_after_last_complete_month') }} as date) as period_end,
        cast({{ dbt.dateadd('month', -2, 'month_after_last_complete_month') }} as date) as base_period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', -1, 'month_after_last_complete_month')) }} as date
        ) as base_period_end
    from calendar

    union all

    select
        'same_month_last_year' as comparison,
        cast({{ dbt.dateadd('month', -1, 'month_after_last_complete_month') }} as date) as period_start,
        cast({{ dbt.dateadd('day', -1, 'month_after_last_complete_month') }} as date) as period_end,
        cast({{ dbt.dateadd('month', -13, 'month_after_last_complete_month') }} as date) as base_period_start,
        cast(
            {{ dbt.dateadd('day', -1, dbt.dateadd('month', -12, 'month_after_last_complete_month')) }} as date
        ) as base_period_end
    from calendar
    {%- if custom_given == 4 %}

        union all

        select
            'custom' as comparison,
            cast('{{ custom.comparison_period_start }}' as date) as period_start,
            cast('{{ custom.comparison_period_end }}' as date) as period_end,
            cast('{{ custom.comparison_base_start }}' as date) as base_period_start,
            cast('{{ custom.comparison_base_end }}' as date) as base_period_end
    {%- endif %}
),

periods as (
    select
        comparison,
        'current' as period_role,
        period_start,
        period_end
    from comparisons

    union all

    select
        comparison,
        'base' as period_role,
        base_period_start as period_start,
        base_period_end as period_end
    from comparisons
),

snapshot_dates as (
    select distinct snapshot_date
    from rfm_history
),

period_snapshots as (
    select
        periods.comparison,
        periods.period_role,
        periods.period_start,
        periods.period_end,
        max(snapshot_dates.snapshot_date) as snapshot_date
    from periods
    left join snapshot_dates
        on periods.period_end >= snapshot_dates.snapshot_date
    group by
        periods.comparison,
        periods.period_role,
        periods.period_start,
        periods.period_end
),

period_members as (
    select
        period_snapshots.comparison,
        period_snapshots.period_role,
        rfm_history.customer_id,
        rfm_history.rfm_group,
        rfm_history.order_count,
        rfm_history.net_sales,
        rfm_history.recency_days
    from period_snapshots
    inner join rfm_history
        on period_snapshots.snapshot_date = rfm_history.snapshot_date
    where rfm_history.rfm_group is not null
),

group_stats as (
    select
        comparison,
        period_role,
        rfm_group,
        count(*) as users,
        round(avg(net_sales), 2) as avg_cumulative_net_sales,
        round(sum(net_sales) / nullif(sum(order_count), 0), 2) as average_order_value,
        round(avg(1.0 * order_count), 2) as avg_cumulative_orders,
        round(avg(1.0 * recency_days), 2) as avg_days_since_last_purchase
    from period_members
    group by
        comparison,
        period_role,
        rfm_group
),

purchases as (
    select
        customer_id,
        ordered_date,
        net_amount
    from orders
    where
        is_purchase
        and not is_guest
        and ordered_date <= {{ as_of_date() }}
),

period_purchases as (
    select
        period_snapshots.comparison,
        period_snapshots.period_role,
        period_members.rfm_group,
        purchases.net_amount
    from purchases
    inner join period_snapshots
        on purchases.ordered_date between period_snapshots.period_start and period_snapshots.period_end
    inner join period_members
        on
            period_snapshots.comparison = period_members.comparison
            and period_snapshots.period_role = period_members.period_role
            and purchases.customer_id = period_members.customer_id
),

cv_stats as (
    select
        comparison,
        period_role,
        rfm_group,
        count(*) as cv_count,
        sum(net_amount) as net_sales
    from period_purchases
    group by
        comparison,
        period_role,
        rfm_group
),

comparison_groups as (
    select
        comparisons.comparison,
        comparisons.period_start,
        comparisons.period_end,
        comparisons.base_period_start,
        comparisons.base_period_end,
        rfm_groups.rfm_group,
        rfm_groups.label_ja as rfm_group_label_ja,
        rfm_groups.label_en as rfm_group_label_en,
        rfm_groups.sort_order as rfm_group_sort_order
    from comparisons
    cross join rfm_groups
),

joined as (
    select
        comparison_groups.*,
        current_snapshots.snapshot_date,
        base_snapshots.snapshot_date as base_snapshot_date,
        coalesce(current_groups.users, 0) as users,
        coalesce(base_groups.users, 0) as base_users,
        coalesce(current_cvs.cv_count, 0) as cv_count,
        coalesce(base_cvs.cv_count, 0) as base_cv_count,
        coalesce(current_cvs.net_sales, 0) as net_sales,
        coalesce(base_cvs.net_sales, 0) as base_net_sales,
        current_groups.avg_cumulative_net_sales,
        base_groups.avg_cumulative_net_sales as base_avg_cumulative_net_sales,
        current_groups.average_order_value,
        base_groups.average_order_value as base_average_order_value,
        current_groups.avg_cumulative_orders,
        base_groups.avg_cumulative_orders as base_avg_cumulative_orders,
        current_groups.avg_days_since_last_purchase,
        base_groups.avg_days_since_last_purchase as base_avg_days_since_last_purchase
    from comparison_groups
    left join period_snapshots as current_snapshots
        on
            comparison_groups.comparison = current_snapshots.comparison
            and current_snapshots.period_role = 'current'
    left join period_snapshots as base_snapshots
        on
            comparison_groups.comparison = base_snapshots.comparison
            and base_snapshots.period_role = 'base'
    left join group_stats as current_groups
        on
            comparison_groups.comparison = current_groups.comparison
            and comparison_groups.rfm_group = current_groups.rfm_group
            and current_groups.period_role = 'current'
    left join group_stats as base_groups
        on
            comparison_groups.comparison = base_groups.comparison
            and comparison_groups.rfm_group = base_groups.rfm_group
            and base_groups.period_role = 'base'
    left join cv_stats as current_cvs
        on
            comparison_groups.comparison = current_cvs.comparison
            and comparison_groups.rfm_group = current_cvs.rfm_group
            and current_cvs.period_role = 'current'
    left join cv_stats as base_cvs
        on
            comparison_groups.comparison = base_cvs.comparison
            and comparison_groups.rfm_group = base_cvs.rfm_group
            and base_cvs.period_role = 'base'
),

changes as (
    select
        *,
        {% for measure in measures %}
            case
                when base_{{ measure }} <> 0
                    then round(100.0 * ({{ measure }} - base_{{ measure }}) / abs(base_{{ measure }}), 2)
            end as {{ measure }}_change_pct{% if not loop.last %},{% endif %}
        {% endfor %}
    from joined
),

final as (
    select
        comparison,
        period_start,
        period_end,
        base_period_start,
        base_period_end,
        snapshot_date,
        base_snapshot_date,
        rfm_group,
        rfm_group_label_ja,
        rfm_group_label_en,
        rfm_group_sort_order,
        {% for measure in measures %}
            {{ measure }},
            base_{{ measure }},
            {{ measure }}_change_pct,
            case
                when {{ measure }} is null or base_{{ measure }} is null then null
                when {{ measure }} = base_{{ measure }} then 'flat'
                when abs({{ measure }}_change_pct) <= {{ flat_threshold_pct }} then 'flat'
                when {{ measure }} > base_{{ measure }} then 'up'
                else 'down'
            end as {{ measure }}_direction{% if not loop.last %},{% endif %}
        {% endfor %}
    from changes
)

select * from final

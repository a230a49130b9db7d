{#- Migration matrix: customers per (group at from_date, group at to_date). Customers who had
    no group at from_date (no purchase yet, or not yet known) come from the group `none`. -#}

{%- set dates = {} -%}
{%- for name in ['migration_from_date', 'migration_to_date'] -%}
    {%- set value = var(name, '') -%}
    {%- set value = '' if value is none else (value | string | trim) -%}
    {%- if value and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be YYYY-MM-DD or empty, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- if value and value < as_of_date_value() -%}
        {%- set day = modules.datetime.date.fromisoformat(value) -%}
        {%- if (day + modules.datetime.timedelta(days=1)).day != 1 -%}
            {{ exceptions.raise_compiler_error(
                name ~ " (" ~ value ~ ") must be a month end, or on or after as_of_date: "
                ~ "groups are read from the month-end snapshots"
            ) }}
        {%- endif -%}
    {%- endif -%}
    {%- do dates.update({name: value}) -%}
{%- endfor -%}
{%- if dates.migration_from_date and dates.migration_to_date
    and dates.migration_from_date >= dates.migration_to_date -%}
    {{ exceptions.raise_compiler_error("migration_from_date must be before migration_to_date") }}
{%- endif -%}

with

rfm_history as (
    select * from {{ ref('customer_rfm_history') }}
),

rfm_groups as (
    select * from {{ ref('rfm_groups') }}
),

calendar as (
    select
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1, as_of_date())) }} as date)
            as month_after_last_complete_month
),

to_dates as (
    select
        {%- if dates.migration_to_date %}
            cast('{{ dates.migration_to_date }}' as date) as to_date
        {%- else %}
            cast({{ dbt.dateadd('day', -1, 'month_after_last_complete_month') }} as date) as to_date
        {%- endif %}
    from calendar
),

migration_dates as (
    select
        {%- if dates.migration_from_date %}
            cast('{{ dates.migration_from_date }}' as date) as from_date,
        {%- else %}
            cast({{ dbt.dateadd('day', -1, dbt.date_trunc('month', 'to_date')) }} as date) as from_date,
        {%- endif %}
        to_date
    from to_dates
),

snapshot_dates as (
    select distinct snapshot_date
    from rfm_history
),

migration_snapshots as (
    select
        migration_dates.from_date,
        migration_dates.to_date,
        max(
            case
                when snapshot_dates.snapshot_date <= migration_dates.from_date
                    then snapshot_dates.snapshot_date
            end
        ) as from_snapshot_date,
        max(
            case
                when snapshot_dates.snapshot_date <= migration_dates.to_date
                    then snapshot_dates.snapshot_date
            end
        ) as to_snapshot_date
    from migration_dates
    cross join snapshot_dates
    group by
        migration_dates.from_date,
        migration_dates.to_date
),

from_members as (
    select
        rfm_history.customer_id,
        rfm_history.rfm_group
    from rfm_history
    inner join migration_snapshots
        on rfm_history.snapshot_date = migration_snapshots.from_snapshot_date
    where rfm_history.rfm_group is not null
),

to_members as (
    select
        rfm_history.customer_id,
        rfm_history.rfm_group
    from rfm_history
    inner join migration_snapshots
        on rfm_history.snapshot_date = migration_snapshots.to_snapshot_date
    where rfm_history.rfm_group is not null
),

movements as (
    select
        to_members.customer_id,
        coalesce(from_members.rfm_group, 'none') as from_group,
        to_members.rfm_group as to_group
    from to_members
    left join from_members
        on to_members.customer_id = from_members.customer_id
),

movement_counts as (
    select
        from_group,
        to_group,
        count(*) as customers
    from movements
    group by
        from_group,
        to_group
),

from_groups as (
    select
        rfm_group,
        label_ja,
        label_en,
        sort_order
    from rfm_groups

    union all

    select
        'none' as rfm_group,
        '未購入' as label_ja,
        'no purchase yet' as label_en,
        0 as sort_order
),

grid as (
    select
        from_groups.rfm_group as from_group,
        from_groups.label_ja as from_group_label_ja,
        from_groups.label_en as from_group_label_en,
        from_groups.sort_order as from_group_sort_order,
        to_groups.rfm_group as to_group,
        to_groups.label_ja as to_group_label_ja,
        to_groups.label_en as to_group_label_en,
        to_groups.sort_order as to_group_sort_order
    from from_groups
    cross join rfm_groups as to_groups
),

counted as (
    select
        grid.*,
        coalesce(movement_counts.customers, 0) as customers
    from grid
    left join movement_counts
        on
            grid.from_group = movement_counts.from_group
            and grid.to_group = movement_counts.to_group
),

shares as (
    select
        *,
        sum(customers) over (partition by from_group) as from_group_customers,
        sum(customers) over (partition by to_group) as to_group_customers
    from counted
),

final as (
    select
        migration_snapshots.from_date,
        migration_snapshots.to_date,
        migration_snapshots.from_snapshot_date,
        migration_snapshots.to_snapshot_date,
        shares.from_group,
        shares.from_group_label_ja,
        shares.from_group_label_en,
        shares.from_group_sort_order,
        shares.to_group,
        shares.to_group_label_ja,
        shares.to_group_label_en,
        shares.to_group_sort_order,
        shares.from_group = shares.to_group as is_same_group,
        shares.customers,
        cast(shares.from_group_customers as {{ dbt.type_bigint() }}) as from_group_customers,
        cast(shares.to_group_customers as {{ dbt.type_bigint() }}) as to_group_customers,
        case
            when shares.from_group_customers > 0
                then round(1.0 * shares.customers / shares.from_group_customers, 4)
        end as share_of_from_group
    from shares
    cross join migration_snapshots
)

select * from final

{#- One row per issue type of the seed data_issue_types (every type, 0 when none): how many
    rows of marts.data_issues have it and the amount left out of the figures because of them.
    The nightly run summary prints these counts. -#}

with

issues as (
    select * from {{ ref('data_issues') }}
),

issue_types as (
    select * from {{ ref('data_issue_types') }}
),

counted as (
    select
        issue_type,
        count(*) as issue_count,
        sum(amount_left_out) as amount_left_out
    from issues
    group by issue_type
),

final as (
    select
        issue_types.issue_type,
        issue_types.sort_order,
        issue_types.feed,
        issue_types.effect,
        issue_types.label_ja as issue_label_ja,
        issue_types.label_en as issue_label_en,
        coalesce(counted.issue_count, 0) as issue_count,
        cast(coalesce(counted.amount_left_out, 0) as {{ dbt.type_numeric() }}) as amount_left_out,
        {{ as_of_date() }} as as_of_date
    from issue_types
    left join counted
        on issue_types.issue_type = counted.issue_type
)

select * from final

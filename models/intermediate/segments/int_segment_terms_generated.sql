{#- The half-year terms of the six-month-stable segments: one row per term that has started
    on or before as_of_date and after the first order (so that some customer has history
    before it). A term starts on the first day of a month listed in the var
    `stable_segment_term_start_months` and runs until the next start (exclusive). -#}
{%- set start_months = stable_segment_term_start_months() -%}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

data_start as (
    select min(ordered_date) as first_ordered_date
    from orders
),

month_ends as (
    select month_end
    from {{ month_ends(
        '(select first_ordered_date from data_start)',
        dbt.dateadd('month', 13, as_of_date()),
    ) }} as spine
),

term_starts as (
    select cast({{ dbt.dateadd('day', 1, 'month_end') }} as date) as term_start
    from month_ends
    where extract(month from {{ dbt.dateadd('day', 1, 'month_end') }}) in ({{ start_months | join(', ') }})
),

sequenced as (
    select
        term_start,
        lead(term_start) over (order by term_start) as term_end
    from term_starts
),

final as (
    select
        sequenced.term_start,
        sequenced.term_end,
        cast({{ dbt.dateadd('day', -1, 'sequenced.term_end') }} as date) as term_last_date,
        {{ days_between('sequenced.term_start', 'sequenced.term_end') }} as term_days,
        sequenced.term_end <= {{ dbt.dateadd('day', 1, as_of_date()) }} as is_complete
    from sequenced
    cross join data_start
    where
        sequenced.term_end is not null
        and sequenced.term_start > data_start.first_ordered_date
        and sequenced.term_start <= {{ as_of_date() }}
)

select * from final

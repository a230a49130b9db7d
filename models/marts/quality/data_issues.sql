{#- One row per loaded-but-suspicious row (データ品質の問題) as of as_of_date: what it is
    (issue_type, seed data_issue_types), where it comes from, the value that made it suspicious
    and the threshold it broke, and the amount the warehouse leaves out of its figures because
    of it. No personal data: ids, dates and amounts only. -#}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

returns as (
    select * from {{ ref('int_returns_capped') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

future_events as (
    select * from {{ ref('int_events_future_dated') }}
),

issue_types as (
    select * from {{ ref('data_issue_types') }}
),

unknown_order_returns as (
    select
        'return_unknown_order' as issue_type,
        'returns' as feed,
        return_id as record_id,
        order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        returned_date as issue_date,
        refund_amount as issue_value,
        cast(null as {{ dbt.type_numeric() }}) as threshold_value,
        refund_amount as amount_left_out
    from returns
    where not is_order_known
),

excess_refunds as (
    select
        'refund_exceeds_order' as issue_type,
        'returns' as feed,
        order_id as record_id,
        order_id,
        customer_id,
        cast(first_returned_at as date) as issue_date,
        delivered_refund_amount as issue_value,
        total_amount as threshold_value,
        delivered_refund_amount - refunded_amount as amount_left_out
    from orders
    where
        delivered_refund_amount > 0
        and delivered_refund_amount > total_amount
),

negative_totals as (
    select
        'order_total_negative' as issue_type,
        'orders' as feed,
        order_id as record_id,
        order_id,
        customer_id,
        ordered_date as issue_date,
        total_amount as issue_value,
        0 as threshold_value,
        gross_amount as amount_left_out
    from orders
    where is_total_negative
),

excessive_totals as (
    select
        'order_total_above_max' as issue_type,
        'orders' as feed,
        order_id as record_id,
        order_id,
        customer_id,
        ordered_date as issue_date,
        total_amount as issue_value,
        {{ number_var('plausible_order_total_max_yen') }} as threshold_value,
        gross_amount as amount_left_out
    from orders
    where is_total_above_max
),

excessive_quantities as (
    select
        'line_quantity_above_max' as issue_type,
        'order_lines' as feed,
        {{ dbt.concat([
            'order_lines.order_id',
            "'#'",
            'cast(order_lines.line_number as ' ~ dbt.type_string() ~ ')',
        ]) }} as record_id,
        order_lines.order_id,
        orders.customer_id,
        orders.ordered_date as issue_date,
        order_lines.quantity as issue_value,
        {{ number_var('plausible_line_quantity_max') }} as threshold_value,
        order_lines.line_amount as amount_left_out
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where order_lines.quantity > {{ number_var('plausible_line_quantity_max') }}
),

future_dated as (
    select
        'event_dated_in_future' as issue_type,
        future_events.feed,
        future_events.record_id,
        future_events.order_id,
        coalesce(future_events.customer_id, orders.customer_id) as customer_id,
        future_events.event_date as issue_date,
        future_events.days_after_as_of_date as issue_value,
        {{ number_var('future_event_tolerance_days') }} as threshold_value,
        cast(null as {{ dbt.type_numeric() }}) as amount_left_out
    from future_events
    left join orders
        on future_events.order_id = orders.order_id
),

unioned as (
    select * from unknown_order_returns
    union all
    select * from excess_refunds
    union all
    select * from negative_totals
    union all
    select * from excessive_totals
    union all
    select * from excessive_quantities
    union all
    select * from future_dated
),

final as (
    select
        unioned.issue_type,
        issue_types.label_ja as issue_label_ja,
        issue_types.label_en as issue_label_en,
        unioned.feed,
        unioned.record_id,
        unioned.order_id,
        unioned.customer_id,
        unioned.issue_date,
        cast(unioned.issue_value as {{ dbt.type_numeric() }}) as issue_value,
        cast(unioned.threshold_value as {{ dbt.type_numeric() }}) as threshold_value,
        cast(unioned.amount_left_out as {{ dbt.type_numeric() }}) as amount_left_out,
        {{ as_of_date() }} as as_of_date
    from unioned
    left join issue_types
        on unioned.issue_type = issue_types.issue_type
)

select * from final

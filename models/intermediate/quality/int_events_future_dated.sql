{#- One row per record (order, return, shipment, session) that the warehouse does not use
    because it is dated in the future: no version is in force on as_of_date (the record is
    missing from staging), and at least one version is dated more than
    `future_event_tolerance_days` after the later of as_of_date and the day its file was
    loaded (e.g. an order typed as 2099; the same limit as the raw quality gate). Counting
    from the load day keeps a run for a past as_of_date quiet: orders placed after that date
    but loaded normally are not typos. -#}

{%- set limit_date = dbt.dateadd(
    'day',
    number_var('future_event_tolerance_days'),
    'case when cast(_loaded_at as date) > ' ~ as_of_date()
    ~ ' then cast(_loaded_at as date) else ' ~ as_of_date() ~ ' end'
) -%}

with

raw_orders as (
    select * from {{ source('shop', 'orders') }}
),

staged_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

raw_returns as (
    select * from {{ source('shop', 'returns') }}
),

staged_returns as (
    select * from {{ ref('stg_shop__returns') }}
),

raw_shipments as (
    select * from {{ source('shop', 'shipments') }}
),

staged_shipments as (
    select * from {{ ref('stg_shop__shipments') }}
),

raw_sessions as (
    select * from {{ source('shop', 'sessions') }}
),

staged_sessions as (
    select * from {{ ref('stg_shop__sessions') }}
),

future_orders as (
    select
        order_id as record_id,
        order_id,
        max(nullif(trim(customer_id), '')) as customer_id,
        min(cast(ordered_at as date)) as event_date
    from raw_orders
    where cast(ordered_at as date) > {{ limit_date }}
    group by order_id
),

unseen_orders as (
    select
        'orders' as feed,
        future_orders.record_id,
        future_orders.order_id,
        future_orders.customer_id,
        future_orders.event_date
    from future_orders
    left join staged_orders
        on future_orders.record_id = staged_orders.order_id
    where staged_orders.order_id is null
),

future_returns as (
    select
        return_id as record_id,
        max(nullif(trim(order_id), '')) as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        min(cast(returned_at as date)) as event_date
    from raw_returns
    where cast(returned_at as date) > {{ limit_date }}
    group by return_id
),

unseen_returns as (
    select
        'returns' as feed,
        future_returns.record_id,
        future_returns.order_id,
        future_returns.customer_id,
        future_returns.event_date
    from future_returns
    left join staged_returns
        on future_returns.record_id = staged_returns.return_id
    where staged_returns.return_id is null
),

future_shipments as (
    select
        shipment_id as record_id,
        max(nullif(trim(order_id), '')) as order_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        min(cast(shipped_at as date)) as event_date
    from raw_shipments
    where cast(shipped_at as date) > {{ limit_date }}
    group by shipment_id
),

unseen_shipments as (
    select
        'shipments' as feed,
        future_shipments.record_id,
        future_shipments.order_id,
        future_shipments.customer_id,
        future_shipments.event_date
    from future_shipments
    left join staged_shipments
        on future_shipments.record_id = staged_shipments.shipment_id
    where staged_shipments.shipment_id is null
),

future_sessions as (
    select
        session_id as record_id,
        max(nullif(trim(order_id), '')) as order_id,
        max(nullif(trim(customer_id), '')) as customer_id,
        min(cast(started_at as date)) as event_date
    from raw_sessions
    where cast(started_at as date) > {{ limit_date }}
    group by session_id
),

unseen_sessions as (
    select
        'sessions' as feed,
        future_sessions.record_id,
        future_sessions.order_id,
        future_sessions.customer_id,
        future_sessions.event_date
    from future_sessions
    left join staged_sessions
        on future_sessions.record_id = staged_sessions.session_id
    where staged_sessions.session_id is null
),

unioned as (
    select * from unseen_orders
    union all
    select * from unseen_returns
    union all
    select * from unseen_shipments
    union all
    select * from unseen_sessions
),

final as (
    select
        feed,
        record_id,
        order_id,
        customer_id,
        event_date,
        {{ days_between(as_of_date(), 'event_date') }} as days_after_as_of_date
    from unioned
)

select * from final

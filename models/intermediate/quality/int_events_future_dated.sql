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
{%- set no_customer = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

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

unseen_orders as (
    {{ unseen_future_records(
        'orders', 'raw_orders', 'staged_orders', 'order_id', 'ordered_at',
        'order_id', "max(nullif(trim(customer_id), ''))", limit_date
    ) }}
),

unseen_returns as (
    {{ unseen_future_records(
        'returns', 'raw_returns', 'staged_returns', 'return_id', 'returned_at',
        "max(nullif(trim(order_id), ''))", no_customer, limit_date
    ) }}
),

unseen_shipments as (
    {{ unseen_future_records(
        'shipments', 'raw_shipments', 'staged_shipments', 'shipment_id', 'shipped_at',
        "max(nullif(trim(order_id), ''))", no_customer, limit_date
    ) }}
),

unseen_sessions as (
    {{ unseen_future_records(
        'sessions', 'raw_sessions', 'staged_sessions', 'session_id', 'started_at',
        "max(nullif(trim(order_id), ''))", "max(nullif(trim(customer_id), ''))", limit_date
    ) }}
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

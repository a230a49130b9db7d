{#- Incremental by visitor: a run re-attributes only the sessions of the visitors tonight's rows
    touch (macros/utils/incremental_web.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ touched_rows_pre_hook(web_touched('visitor', 'visitor_id', ['sessions'])) }}",
    )
}}

with

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
    where {{ web_touched('visitor', 'visitor_id', ['sessions']) }}
),

identified_sessions as (
    select
        visitor_id,
        customer_id,
        row_number() over (
            partition by visitor_id
            order by started_at desc, session_id desc
        ) as recency_rank
    from sessions
    where customer_id is not null
),

visitor_customers as (
    select
        visitor_id,
        customer_id
    from identified_sessions
    where recency_rank = 1
),

final as (
    select
        sessions.session_id,
        sessions.visitor_id,
        coalesce(sessions.customer_id, visitor_customers.customer_id) as customer_id,
        sessions.customer_id is null
        and visitor_customers.customer_id is not null as is_attributed_by_visitor,
        visitor_customers.customer_id as visitor_customer_id,
        sessions.started_at,
        sessions.started_date,
        sessions.duration_seconds,
        sessions.page_views,
        sessions.traffic_source,
        sessions.traffic_medium,
        sessions.campaign,
        sessions.device_type,
        sessions.is_converted,
        sessions.order_id,
        {{ newest_staged_load([ref('stg_shop__sessions')]) }} as _load_id,
        {{ as_of_date() }} as _staged_as_of
    from sessions
    left join visitor_customers
        on sessions.visitor_id = visitor_customers.visitor_id
)

select * from final

with

sessions as (
    select * from {{ ref('stg_shop__sessions') }}
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
        sessions.started_at,
        sessions.started_date,
        sessions.duration_seconds,
        sessions.page_views,
        sessions.traffic_source,
        sessions.traffic_medium,
        sessions.campaign,
        sessions.device_type,
        sessions.is_converted,
        sessions.order_id
    from sessions
    left join visitor_customers
        on sessions.visitor_id = visitor_customers.visitor_id
)

select * from final

{#- One row per page view, with its session's visitor and attributed customer: the page views
    the web aggregates count, joined once and stored (compressed) instead of joined per model.
    Incremental by visitor, as int_sessions_attributed (macros/utils/incremental_web.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ touched_rows_pre_hook(web_touched('visitor', 'visitor_id')) }}",
    )
}}

with

sessions as (
    select * from {{ ref('int_sessions_attributed') }}
    where {{ web_touched('visitor', 'visitor_id') }}
),

page_views as (
    select * from {{ ref('stg_shop__page_views') }}
),

final as (
    select
        page_views.session_id,
        page_views.viewed_at,
        page_views.page_url,
        sessions.visitor_id,
        sessions.customer_id,
        page_views.sku,
        {{ newest_staged_load([ref('stg_shop__sessions'), ref('stg_shop__page_views')]) }} as _load_id,
        {{ as_of_date() }} as _staged_as_of
    from page_views
    inner join sessions
        on page_views.session_id = sessions.session_id
)

select * from final

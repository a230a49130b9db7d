{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('page_views') }}",
    )
}}

with

source as (
    {{ staging_source('page_views') }}
),

renamed as (
    select
        session_id,
        viewed_at,
        page_url,
        lower(coalesce(page_type, 'other')) as page_type,
        nullif(trim(sku), '') as sku,
        time_on_page_seconds,
        scroll_depth_pct,
        viewed_at as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['session_id', 'viewed_at', 'page_url']) }} as version_rank
    from renamed
),

final as (
    select
        session_id,
        viewed_at,
        page_url,
        page_type,
        sku,
        time_on_page_seconds,
        scroll_depth_pct,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where
        version_rank = 1
        and viewed_at < {{ as_of_cutoff() }}
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('sessions') }}",
    )
}}

with

source as (
    {{ staging_source('sessions') }}
),

renamed as (
    select
        session_id,
        visitor_id,
        nullif(trim(customer_id), '') as customer_id,
        started_at,
        ended_at,
        coalesce(
            duration_seconds,
            case
                when ended_at >= started_at
                    then {{ dbt.datediff('started_at', 'ended_at', 'second') }}
            end
        ) as duration_seconds,
        page_views,
        landing_page,
        referrer,
        lower(nullif(trim(source), '')) as traffic_source,
        lower(nullif(trim(medium), '')) as traffic_medium,
        campaign,
        lower(nullif(trim(device_type), '')) as device_type,
        coalesce(converted, false) as is_converted,
        nullif(trim(order_id), '') as order_id,
        {{ version_time(['session_id'], 'updated_at', 'started_at') }} as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['session_id']) }} as version_rank
    from renamed
),

final as (
    select
        session_id,
        visitor_id,
        customer_id,
        started_at,
        cast(started_at as date) as started_date,
        duration_seconds,
        page_views,
        landing_page,
        referrer,
        traffic_source,
        traffic_medium,
        campaign,
        device_type,
        is_converted,
        order_id,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where
        version_rank = 1
        and started_at < {{ as_of_cutoff() }}
)

select * from final

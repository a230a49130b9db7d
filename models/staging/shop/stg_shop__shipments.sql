{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('shipments') }}",
    )
}}

with

source as (
    {{ staging_source('shipments') }}
),

renamed as (
    select
        shipment_id,
        order_id,
        shipped_at,
        delivered_at,
        lower(carrier) as carrier,
        {{ version_time(['shipment_id'], 'updated_at', 'shipped_at') }} as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['shipment_id']) }} as version_rank
    from renamed
),

final as (
    select
        shipment_id,
        order_id,
        shipped_at,
        case
            when delivered_at < {{ as_of_cutoff() }} then delivered_at
        end as delivered_at,
        carrier,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where
        version_rank = 1
        and shipped_at < {{ as_of_cutoff() }}
)

select * from final

with

source as (
    select * from {{ source('shop', 'shipments') }}
),

renamed as (
    select
        shipment_id,
        order_id,
        shipped_at,
        delivered_at,
        lower(carrier) as carrier,
        coalesce(updated_at, shipped_at) as updated_at,
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
        carrier
    from versioned
    where
        version_rank = 1
        and shipped_at < {{ as_of_cutoff() }}
)

select * from final

with

source as (
    select * from {{ source('shop', 'returns') }}
),

renamed as (
    select
        return_id,
        order_id,
        line_number,
        returned_at,
        quantity,
        refund_amount,
        reason,
        coalesce(updated_at, returned_at) as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['return_id']) }} as version_rank
    from renamed
),

final as (
    select
        return_id,
        order_id,
        line_number,
        returned_at,
        cast(returned_at as date) as returned_date,
        quantity,
        refund_amount,
        reason
    from versioned
    where
        version_rank = 1
        and returned_at < {{ as_of_cutoff() }}
)

select * from final

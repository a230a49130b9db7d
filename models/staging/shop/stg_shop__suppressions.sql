with

source as (
    select * from {{ source('shop', 'suppressions') }}
),

renamed as (
    select
        lower(trim(channel)) as channel,
        trim(address) as address,
        suppressed_at,
        lower(reason) as reason,
        suppressed_at as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['channel', 'address']) }} as version_rank
    from renamed
),

final as (
    select
        channel,
        address,
        suppressed_at,
        reason
    from versioned
    where
        version_rank = 1
        and suppressed_at < {{ as_of_cutoff() }}
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('returns') }}",
    )
}}

with

source as (
    {{ staging_source('returns') }}
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
        {{ version_time(['return_id'], 'updated_at', 'returned_at') }} as updated_at,
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
        reason,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where
        version_rank = 1
        and returned_at < {{ as_of_cutoff() }}
)

select * from final

with

source as (
    select * from {{ source('shop', 'members') }}
),

renamed as (
    select
        customer_id,
        registered_at,
        nullif(trim(email), '') as email,
        nullif(trim(phone), '') as phone,
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        lower(coalesce(gender, 'unknown')) as gender,
        birth_date,
        nullif(trim(postal_code), '') as postal_code,
        prefecture,
        city,
        address_line1,
        address_line2,
        upper(nullif(trim(member_rank), '')) as member_rank,
        coalesce(email_opt_in, false) as is_email_opt_in,
        coalesce(sms_opt_in, false) as is_sms_opt_in,
        coalesce(dm_opt_in, false) as is_dm_opt_in,
        withdrawn_at,
        {{ version_time(['customer_id'], 'updated_at', 'registered_at') }} as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['customer_id']) }} as version_rank
    from renamed
),

final as (
    select
        customer_id,
        registered_at,
        cast(registered_at as date) as registered_date,
        email,
        phone,
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        gender,
        birth_date,
        postal_code,
        prefecture,
        city,
        address_line1,
        address_line2,
        member_rank,
        is_email_opt_in,
        is_sms_opt_in,
        is_dm_opt_in,
        case
            when withdrawn_at < {{ as_of_cutoff() }} then withdrawn_at
        end as withdrawn_at,
        coalesce(withdrawn_at < {{ as_of_cutoff() }}, false) as is_withdrawn
    from versioned
    where
        version_rank = 1
        and registered_at < {{ as_of_cutoff() }}
)

select * from final

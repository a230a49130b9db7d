{#- The only model with personal data: one row per member with normalised contact data, its
    validity per channel, consent, suppressions and personalisation fields. The exporter joins
    audiences (customer ids) to this table and filters per channel. -#}

with

members as (
    select * from {{ ref('stg_shop__members') }}
),

suppressions as (
    select * from {{ ref('stg_shop__suppressions') }}
),

last_purchases as (
    select * from {{ ref('int_customer_products_last_purchased') }}
),

behaviour as (
    select * from {{ ref('customer_behaviour') }}
),

normalized as (
    select
        customer_id,
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        {{ normalized_email('email') }} as email,
        {{ phone_e164_jp('phone') }} as phone_e164,
        {{ postal_code_jp('postal_code') }} as postal_code,
        prefecture,
        city,
        address_line1,
        address_line2,
        is_email_opt_in,
        is_sms_opt_in,
        is_dm_opt_in,
        is_withdrawn
    from members
),

suppressed_addresses as (
    select
        channel,
        address,
        case
            when channel = 'email' then {{ normalized_email('address') }}
            when channel = 'sms' then {{ phone_e164_jp('address') }}
        end as normalized_address
    from suppressions
    where suppressed_at < {{ as_of_cutoff() }}
),

suppressed_channels as (
    {#- three equality joins, not one join on `a or b or c`: a join on a disjunction is a
        nested loop over members x suppressions -#}
    select
        normalized.customer_id,
        suppressed_addresses.channel
    from normalized
    inner join suppressed_addresses
        on normalized.customer_id = suppressed_addresses.address
    union all
    select
        normalized.customer_id,
        suppressed_addresses.channel
    from normalized
    inner join suppressed_addresses
        on
            suppressed_addresses.channel = 'email'
            and normalized.email = suppressed_addresses.normalized_address
    union all
    select
        normalized.customer_id,
        suppressed_addresses.channel
    from normalized
    inner join suppressed_addresses
        on
            suppressed_addresses.channel = 'sms'
            and normalized.phone_e164 = suppressed_addresses.normalized_address
),

suppression_flags as (
    select
        customer_id,
        max(case when channel = 'email' then 1 else 0 end) = 1 as is_email_suppressed,
        max(case when channel = 'sms' then 1 else 0 end) = 1 as is_sms_suppressed,
        max(case when channel = 'dm' then 1 else 0 end) = 1 as is_dm_suppressed
    from suppressed_channels
    group by customer_id
),

validated as (
    select
        *,
        {{ is_valid_email('email') }} as is_email_valid,
        {{ is_valid_phone_e164('phone_e164') }} as is_phone_valid,
        postal_code is not null as is_postal_code_valid,
        case
            when postal_code is not null and address_line1 is not null
                then {{ dbt.concat([
                    'postal_code',
                    "'|'",
                    address_key_part("coalesce(prefecture, '')"),
                    address_key_part("coalesce(city, '')"),
                    address_key_part('address_line1'),
                    "'|'",
                    address_key_part("coalesce(address_line2, '')"),
                ]) }}
        end as household_key
    from normalized
),

final as (
    select
        validated.customer_id,
        validated.family_name,
        validated.given_name,
        validated.family_name_kana,
        validated.given_name_kana,
        validated.email,
        validated.is_email_valid,
        validated.phone_e164,
        validated.is_phone_valid,
        validated.postal_code,
        validated.is_postal_code_valid,
        validated.prefecture,
        validated.city,
        validated.address_line1,
        validated.address_line2,
        validated.household_key,
        validated.is_email_opt_in,
        validated.is_sms_opt_in,
        validated.is_dm_opt_in,
        validated.is_withdrawn,
        coalesce(suppression_flags.is_email_suppressed, false) as is_email_suppressed,
        coalesce(suppression_flags.is_sms_suppressed, false) as is_sms_suppressed,
        coalesce(suppression_flags.is_dm_suppressed, false) as is_dm_suppressed,
        last_purchases.last_purchased_date,
        last_purchases.last_purchased_sku,
        last_purchases.last_purchased_product_name,
        behaviour.last_viewed_sku,
        behaviour.last_viewed_product_name,
        {{ as_of_date() }} as as_of_date
    from validated
    left join suppression_flags
        on validated.customer_id = suppression_flags.customer_id
    left join last_purchases
        on validated.customer_id = last_purchases.customer_id
    left join behaviour
        on validated.customer_id = behaviour.customer_id
)

select * from final

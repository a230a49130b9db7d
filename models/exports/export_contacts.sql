{#- The only model with personal data: one row per member with normalised contact data, its
    validity per channel, consent, suppressions, the contacts it shares with accounts that said
    no, and personalisation fields. The exporter joins audiences (customer ids) to this table
    and filters per channel. -#}

with

members as (
    select * from {{ ref('stg_shop__members') }}
),

suppressions as (
    select * from {{ ref('stg_shop__suppressions') }}
),

rejected_consent_rows as (
    select * from {{ ref('int_consent_rows_rejected') }}
),

rejects as (
    select * from {{ source('shop', '_rejects') }}
),

last_purchases as (
    select * from {{ ref('int_customer_products_last_purchased') }}
),

behaviour as (
    select * from {{ ref('customer_behaviour') }}
),

members_prepared as (
    select
        *,
        {{ phone_digits('phone') }} as phone_digits
    from members
),

normalized as (
    select
        customer_id,
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        {{ normalized_email('email') }} as email,
        {{ phone_e164_jp('phone_digits') }} as phone_e164,
        {{ postal_code_jp('postal_code') }} as postal_code,
        prefecture,
        city,
        address_line1,
        address_line2,
        {{ postal_address_key(dbt.concat([
            "coalesce(prefecture, '')",
            "coalesce(city, '')",
            "coalesce(address_line1, '')",
            "coalesce(address_line2, '')",
        ])) }} as postal_address_key,
        is_email_opt_in,
        is_sms_opt_in,
        is_dm_opt_in,
        is_withdrawn
    from members_prepared
),

{# Every address that blocks someone: the suppressions in force (per channel) and the
    addresses of rejected suppressions rows that still stand (every channel: the run cannot
    read them). An address names whoever it matches: a customer id, or an email, phone or
    postal address normalised like the members' own. #}
blocking_addresses as (
    select
        channel,
        address,
        false as is_unreadable_row
    from suppressions
    union all
    select
        cast(null as {{ dbt.type_string() }}) as channel,
        trim({{ json_text('rejects.raw_record', 'address') }}) as address,
        true as is_unreadable_row
    from rejected_consent_rows
    inner join rejects
        on
            rejected_consent_rows.feed = rejects.feed
            and rejected_consent_rows.load_id = rejects.load_id
            and rejected_consent_rows.source_line = coalesce(rejects.source_line, 0)
    where rejected_consent_rows.names_contact
),

addresses_prepared as (
    select
        *,
        {{ phone_digits('address') }} as address_digits
    from blocking_addresses
),

address_keys as (
    select
        channel,
        address,
        is_unreadable_row,
        {{ normalized_email('address') }} as email_key,
        {{ phone_e164_jp('address_digits') }} as phone_key,
        {{ postal_address_key('address') }} as postal_key
    from addresses_prepared
),

named_members as (
    {#- four equality joins, not one join on `a or b or c or d`: a join on a disjunction is a
        nested loop over members x suppressions -#}
    select
        normalized.customer_id,
        address_keys.channel,
        address_keys.is_unreadable_row
    from normalized
    inner join address_keys
        on normalized.customer_id = address_keys.address
    union all
    select
        normalized.customer_id,
        address_keys.channel,
        address_keys.is_unreadable_row
    from normalized
    inner join address_keys
        on normalized.email = address_keys.email_key
    union all
    select
        normalized.customer_id,
        address_keys.channel,
        address_keys.is_unreadable_row
    from normalized
    inner join address_keys
        on normalized.phone_e164 = address_keys.phone_key
    union all
    select
        normalized.customer_id,
        address_keys.channel,
        address_keys.is_unreadable_row
    from normalized
    inner join address_keys
        on normalized.postal_address_key = address_keys.postal_key
    union all
    select
        customer_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        true as is_unreadable_row
    from rejected_consent_rows
    where customer_id is not null
),

member_blocks as (
    select
        customer_id,
        max(case when channel = 'email' then 1 else 0 end) = 1 as is_email_suppressed,
        max(case when channel = 'sms' then 1 else 0 end) = 1 as is_sms_suppressed,
        max(case when channel = 'dm' then 1 else 0 end) = 1 as is_dm_suppressed,
        max(case when is_unreadable_row then 1 else 0 end) = 1 as is_consent_uncertain
    from named_members
    group by customer_id
),

validated as (
    select
        normalized.*,
        {{ is_valid_email('normalized.email') }} as is_email_valid,
        {{ is_valid_phone_e164('normalized.phone_e164') }} as is_phone_valid,
        normalized.postal_code is not null as is_postal_code_valid,
        case
            when normalized.postal_code is not null and normalized.address_line1 is not null
                then {{ dbt.concat([
                    'normalized.postal_code',
                    "'|'",
                    address_key_part("coalesce(normalized.prefecture, '')"),
                    address_key_part("coalesce(normalized.city, '')"),
                    address_key_part('normalized.address_line1'),
                    "'|'",
                    address_key_part("coalesce(normalized.address_line2, '')"),
                ]) }}
        end as household_key,
        coalesce(member_blocks.is_email_suppressed, false) as is_email_suppressed,
        coalesce(member_blocks.is_sms_suppressed, false) as is_sms_suppressed,
        coalesce(member_blocks.is_dm_suppressed, false) as is_dm_suppressed,
        coalesce(member_blocks.is_consent_uncertain, false) as is_consent_uncertain
    from normalized
    left join member_blocks
        on normalized.customer_id = member_blocks.customer_id
),

{# Per channel: 1 when this account says no to it (not opted in, withdrawn, suppressed, or
    its consent unreadable). A contact is a person: every account sharing the contact hears
    the no. #}
refusals as (
    select
        *,
        case
            when not is_email_opt_in or is_withdrawn or is_email_suppressed or is_consent_uncertain
                then 1
            else 0
        end as is_email_refused,
        case
            when not is_sms_opt_in or is_withdrawn or is_sms_suppressed or is_consent_uncertain
                then 1
            else 0
        end as is_sms_refused,
        case
            when not is_dm_opt_in or is_withdrawn or is_dm_suppressed or is_consent_uncertain
                then 1
            else 0
        end as is_dm_refused
    from validated
),

email_refusals as (
    select
        email,
        sum(is_email_refused) as refusing_accounts
    from refusals
    where email is not null
    group by email
),

phone_refusals as (
    select
        phone_e164,
        sum(is_sms_refused) as refusing_accounts
    from refusals
    where phone_e164 is not null
    group by phone_e164
),

household_refusals as (
    select
        household_key,
        sum(is_dm_refused) as refusing_accounts
    from refusals
    where household_key is not null
    group by household_key
),

final as (
    select
        refusals.customer_id,
        refusals.family_name,
        refusals.given_name,
        refusals.family_name_kana,
        refusals.given_name_kana,
        refusals.email,
        refusals.is_email_valid,
        refusals.phone_e164,
        refusals.is_phone_valid,
        refusals.postal_code,
        refusals.is_postal_code_valid,
        refusals.prefecture,
        refusals.city,
        refusals.address_line1,
        refusals.address_line2,
        refusals.household_key,
        refusals.is_email_opt_in,
        refusals.is_sms_opt_in,
        refusals.is_dm_opt_in,
        refusals.is_withdrawn,
        refusals.is_email_suppressed,
        refusals.is_sms_suppressed,
        refusals.is_dm_suppressed,
        refusals.is_consent_uncertain,
        coalesce(email_refusals.refusing_accounts - refusals.is_email_refused > 0, false)
            as is_email_shared_refusal,
        coalesce(phone_refusals.refusing_accounts - refusals.is_sms_refused > 0, false)
            as is_sms_shared_refusal,
        coalesce(household_refusals.refusing_accounts - refusals.is_dm_refused > 0, false)
            as is_dm_shared_refusal,
        last_purchases.last_purchased_date,
        last_purchases.last_purchased_sku,
        last_purchases.last_purchased_product_name,
        behaviour.last_viewed_sku,
        behaviour.last_viewed_product_name,
        {{ as_of_date() }} as as_of_date
    from refusals
    left join email_refusals
        on refusals.email = email_refusals.email
    left join phone_refusals
        on refusals.phone_e164 = phone_refusals.phone_e164
    left join household_refusals
        on refusals.household_key = household_refusals.household_key
    left join last_purchases
        on refusals.customer_id = last_purchases.customer_id
    left join behaviour
        on refusals.customer_id = behaviour.customer_id
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('orders') }}",
    )
}}

with

source as (
    {{ staging_source('orders') }}
),

renamed as (
    select
        order_id,
        nullif(trim(customer_id), '') as customer_id,
        ordered_at,
        lower(coalesce(status, 'ordered')) as order_status,
        lower(coalesce(nullif(trim(channel), ''), 'own_site')) as channel,
        subtotal_amount,
        coalesce(discount_amount, 0) as discount_amount,
        coalesce(shipping_fee, 0) as shipping_fee,
        tax_amount,
        total_amount,
        payment_method,
        coupon_code,
        coalesce(is_subscription, false) as is_subscription,
        {{ version_time(['order_id'], 'updated_at', 'ordered_at') }} as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['order_id']) }} as version_rank
    from renamed
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        order_status,
        channel,
        subtotal_amount,
        discount_amount,
        shipping_fee,
        tax_amount,
        total_amount,
        payment_method,
        coupon_code,
        is_subscription,
        updated_at,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where
        version_rank = 1
        and ordered_at < {{ as_of_cutoff() }}
)

select * from final

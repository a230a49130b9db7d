{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ staging_pre_hook('order_lines') }}",
    )
}}

with

source as (
    {{ staging_source('order_lines') }}
),

renamed as (
    select
        order_id,
        line_number,
        sku,
        product_name,
        nullif(trim(brand), '') as brand,
        nullif(trim(category), '') as category,
        quantity,
        unit_price,
        coalesce(line_amount, quantity * unit_price) as line_amount,
        {{ version_time(['order_id', 'line_number']) }} as updated_at,
        _load_id,
        _source_line
    from source
),

versioned as (
    select
        *,
        {{ latest_version_rank(['order_id', 'line_number']) }} as version_rank
    from renamed
),

final as (
    select
        order_id,
        line_number,
        sku,
        product_name,
        brand,
        category,
        quantity,
        unit_price,
        line_amount,
        _load_id,
        {{ as_of_date() }} as _staged_as_of
    from versioned
    where version_rank = 1
)

select * from final

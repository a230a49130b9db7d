with

source as (
    select * from {{ source('shop', 'order_lines') }}
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
        updated_at,
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
        line_amount
    from versioned
    where version_rank = 1
)

select * from final

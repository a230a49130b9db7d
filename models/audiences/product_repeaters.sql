{#- (4) Repeat buyers of a target product: customers with at least
    `audience_repeat_min_purchases` purchases (orders, not units) containing the target, given
    by `audience_repeat_dimension` (sku, category or brand) and `audience_repeat_value` as it
    appears in the order lines. -#}

{%- set dimension = var('audience_repeat_dimension') | string | trim | lower -%}
{%- if dimension not in ['sku', 'category', 'brand'] -%}
    {{ exceptions.raise_compiler_error(
        "audience_repeat_dimension must be sku, category or brand, got '" ~ dimension ~ "'"
    ) }}
{%- endif -%}
{%- set target_value = dbt.string_literal(dbt.escape_single_quotes(var('audience_repeat_value') | string)) %}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

profiles as (
    select * from {{ ref('customer_profiles') }}
),

target_orders as (
    select distinct
        orders.customer_id,
        orders.order_id,
        orders.ordered_date
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where
        orders.is_purchase
        and not orders.is_guest
        and order_lines.{{ dimension }} = {{ target_value }}
),

target_purchases as (
    select
        customer_id,
        count(*) as target_purchases,
        max(ordered_date) as last_target_purchase_date
    from target_orders
    group by customer_id
),

repeaters as (
    select
        target_purchases.customer_id,
        target_purchases.target_purchases,
        target_purchases.last_target_purchase_date,
        profiles.rfm_group_label_ja,
        profiles.segment_label_ja,
        profiles.last_viewed_sku
    from target_purchases
    inner join profiles
        on target_purchases.customer_id = profiles.customer_id
    where target_purchases.target_purchases >= {{ number_var('audience_repeat_min_purchases') }}
),

final as (
    select
        customer_id,
        '{{ dimension }}' as target_dimension,
        {{ target_value }} as target_value,
        target_purchases,
        last_target_purchase_date,
        rfm_group_label_ja,
        segment_label_ja,
        last_viewed_sku
    from repeaters
)

select * from final

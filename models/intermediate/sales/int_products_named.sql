{#- One row per SKU sold up to as_of_date, with the product name, brand and category of its
    latest order line (names change; the latest wins). Only names known from order lines.

    Incremental by SKU: the latest line of a SKU can only change through the lines of the orders
    tonight's staged orders and order lines touch (shipments and returns do not matter here).
    A run takes, per SKU on those lines, the latest of tonight's versions of those lines and
    the SKU's stored latest line (when its order was not touched). Only when the stored latest
    line's order was touched and its new version is gone, moved to another SKU or dated
    earlier is the SKU recomputed from all of its lines; a SKU left without any line is
    removed. A change of this SQL or of int_orders_enriched's, a run for an earlier as_of_date,
    the first run and `--full-refresh` rebuild every SKU. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='sku',
        on_schema_change='sync_all_columns',
        rules_models=['int_orders_enriched'],
        watermark_load_column='_watermark_load_id',
        pre_hook="{{ rebuild_pre_hook() }}",
        post_hook="delete from {{ this }} where _order_id is null",
    )
}}
{%- set watermark = staging_watermark() -%}
{#- the lines with the time of their order (every use filters it differently) -#}
{%- set lines_with_order_time -%}
    select
        order_lines.sku,
        order_lines.product_name,
        order_lines.brand,
        order_lines.category,
        orders.ordered_at,
        order_lines.order_id,
        order_lines.line_number
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
{%- endset %}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
    where sku is not null
),

-- noqa: disable=LT02
{# (the layout linter asks for indented CTEs inside a template branch) #}
{% if watermark is none %}
sold_lines as (
    {{ lines_with_order_time }}
),

{% else %}
touched_orders as (
    {{ touched_order_ids(watermark, with_fulfilment=false) }}
),

stored as (
    select * from {{ this }}
),

candidate_lines as (
    {{ lines_with_order_time }}
    where order_lines.order_id in (select touched_orders.order_id from touched_orders)
),

{# a SKU whose stored latest line may have lost its place: recomputed from all its lines #}
demoted_skus as (
    select stored.sku
    from stored
    where
        stored._order_id in (select touched_orders.order_id from touched_orders)
        and not exists (
            select 1
            from candidate_lines
            where
                candidate_lines.order_id = stored._order_id
                and candidate_lines.line_number = stored._line_number
                and candidate_lines.sku = stored.sku
                and candidate_lines.ordered_at >= stored._last_sold_at
        )
),

recomputed_lines as (
    {{ lines_with_order_time }}
    where order_lines.sku in (select demoted_skus.sku from demoted_skus)
),

kept_lines as (
    select
        stored.sku,
        stored.product_name,
        stored.brand,
        stored.category,
        stored._last_sold_at as ordered_at,
        stored._order_id as order_id,
        stored._line_number as line_number
    from stored
    where
        stored.sku in (select candidate_lines.sku from candidate_lines)
        and stored._order_id not in (select touched_orders.order_id from touched_orders)
),

sold_lines as (
    select * from candidate_lines
    union all
    select * from recomputed_lines
    union all
    select * from kept_lines
),

{% endif %}
-- noqa: enable=LT02
ranked as (
    select
        *,
        row_number() over (
            partition by sku
            order by ordered_at desc, order_id desc, line_number desc
        ) as recency_rank
    from sold_lines
),

latest as (
    select * from ranked
    where recency_rank = 1
),

-- noqa: disable=LT02
{% if watermark is not none %}
{# a demoted SKU left without any line: a row without a line, removed by the post-hook #}
vanished as (
    select
        demoted_skus.sku,
        cast(null as {{ dbt.type_string() }}) as product_name,
        cast(null as {{ dbt.type_string() }}) as brand,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_int() }}) as line_number
    from demoted_skus
    where demoted_skus.sku not in (select latest.sku from latest)
),

{% endif %}
-- noqa: enable=LT02
final as (
    select
        sku,
        product_name,
        brand,
        category,
        cast(ordered_at as date) as last_sold_date,
        ordered_at as _last_sold_at,
        order_id as _order_id,
        line_number as _line_number,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from latest
    {%- if watermark is not none %}

    union all

    select
        sku,
        product_name,
        brand,
        category,
        cast(ordered_at as date) as last_sold_date,
        ordered_at as _last_sold_at,
        order_id as _order_id,
        line_number as _line_number,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from vanished
    {%- endif %}
)

select * from final

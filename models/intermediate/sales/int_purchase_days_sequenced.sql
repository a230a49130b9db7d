{#- Incremental by customer (macros/utils/incremental_touched.sql): a run recomputes the
    customers on the orders tonight's staged rows touch, and every customer when the
    plausibility vars or the SQL of this model or of int_orders_enriched change. -#}
{{ config(**customer_sales_incremental_config()) }}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    where {{ customers_touched() }}
),

purchase_days as (
    select distinct
        customer_id,
        ordered_date as purchase_date
    from orders
    where
        is_purchase
        and not is_guest
),

sequenced as (
    select
        customer_id,
        purchase_date,
        row_number() over (
            partition by customer_id order by purchase_date
        ) as purchase_day_number,
        lag(purchase_date) over (
            partition by customer_id order by purchase_date
        ) as previous_purchase_date
    from purchase_days
),

final as (
    select
        customer_id,
        purchase_date,
        purchase_day_number,
        previous_purchase_date,
        case
            when previous_purchase_date is not null
                then {{ days_between('previous_purchase_date', 'purchase_date') }}
        end as days_since_previous_purchase,
        {{ touched_metadata_columns(ref('int_orders_enriched')) }}
    from sequenced
)

select * from final

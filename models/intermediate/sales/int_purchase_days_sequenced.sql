with

orders as (
    select * from {{ ref('int_orders_enriched') }}
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
        end as days_since_previous_purchase
    from sequenced
)

select * from final

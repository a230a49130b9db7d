with

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_refund_caps as (
    select
        order_id,
        total_amount,
        case
            when total_amount - shipping_fee > 0 then total_amount - shipping_fee
            else 0
        end as refund_cap
    from orders
),

sequenced as (
    select
        returns.return_id,
        returns.order_id,
        returns.line_number,
        returns.returned_at,
        returns.returned_date,
        returns.refund_amount,
        order_refund_caps.order_id is not null as is_order_known,
        order_refund_caps.total_amount as order_total_amount,
        order_refund_caps.refund_cap,
        coalesce(
            sum(returns.refund_amount) over (
                partition by returns.order_id
                order by returns.returned_at asc, returns.return_id asc
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as earlier_refund_amount
    from returns
    left join order_refund_caps
        on returns.order_id = order_refund_caps.order_id
),

capped as (
    select
        *,
        case
            when not is_order_known then 0
            when earlier_refund_amount >= refund_cap then 0
            when earlier_refund_amount + refund_amount > refund_cap
                then refund_cap - earlier_refund_amount
            else refund_amount
        end as counted_refund_amount
    from sequenced
),

final as (
    select
        return_id,
        order_id,
        line_number,
        returned_at,
        returned_date,
        refund_amount,
        counted_refund_amount,
        case
            when is_order_known then refund_amount - counted_refund_amount
            else 0
        end as excess_refund_amount,
        earlier_refund_amount + refund_amount as cumulative_refund_amount,
        order_total_amount,
        refund_cap,
        is_order_known
    from capped
)

select * from final

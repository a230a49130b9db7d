{%- set dimensions = ['category', 'brand'] -%}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

purchased_lines as (
    select
        orders.customer_id,
        orders.ordered_at,
        order_lines.order_id,
        order_lines.line_number,
        order_lines.category,
        order_lines.brand,
        order_lines.quantity,
        order_lines.line_amount,
        row_number() over (
            partition by orders.customer_id
            order by orders.ordered_at, order_lines.order_id, order_lines.line_number
        ) as line_sequence
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where
        orders.is_purchase
        and not orders.is_guest
),

{% for dimension in dimensions %}
{{ dimension }}_totals as (
    select
        customer_id,
        '{{ dimension }}' as dimension,
        {{ dimension }} as dimension_value,
        sum(quantity) as quantity,
        sum(line_amount) as line_amount,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        min(line_sequence) as first_line_sequence
    from purchased_lines
    where {{ dimension }} is not null
    group by customer_id, {{ dimension }}
),
{% endfor %}

unioned as (
    {% for dimension in dimensions %}
    select * from {{ dimension }}_totals
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        customer_id,
        dimension,
        dimension_value,
        quantity,
        line_amount,
        first_ordered_at,
        last_ordered_at,
        row_number() over (
            partition by customer_id, dimension
            order by quantity desc, last_ordered_at desc, dimension_value
        ) as most_bought_rank,
        row_number() over (
            partition by customer_id, dimension
            order by first_line_sequence
        ) as first_bought_rank
    from unioned
)

select * from final

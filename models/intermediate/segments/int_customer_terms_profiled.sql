{#- Each customer's purchase history before each term start, per segmentation scope: only
    orders dated before the term start and refunds and shipments recorded before it count
    (events on or after the term start are ignored, whenever they were loaded). An order
    counts as a purchase unless it is cancelled or refunds recorded before the term start
    reach its gross amount. These are the inputs of the segment rules
    (int_customer_terms_segmented).
    Incremental by term (macros/utils/incremental_terms.sql): a run recomputes only the terms
    that start after the earliest date of tonight's changed rows, and a new term. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        rules_vars=[
            'stable_segment_regularity_min_intervals',
            'stable_segment_term_start_months',
            'plausible_order_total_max_yen',
            'plausible_line_quantity_max',
        ],
        rules_models=[
            'int_segment_terms_generated',
            'int_segment_orders_scoped',
            'int_segment_refunds_scoped',
            'int_returns_capped',
        ],
        watermark_load_column='_watermark_load_id',
        pre_hook="{{ profiled_terms_pre_hook() }}",
    )
}}
{%- set min_intervals = number_var('stable_segment_regularity_min_intervals', 3) | int -%}

with

terms as (
    select * from {{ ref('int_segment_terms_generated') }}
    {{ terms_not_written() }}
),

scoped_orders as (
    select * from {{ ref('int_segment_orders_scoped') }}
),

scoped_refunds as (
    select * from {{ ref('int_segment_refunds_scoped') }}
),

orders_before_term as (
    select
        terms.term_start,
        scoped_orders.scope_code,
        scoped_orders.customer_id,
        scoped_orders.order_id,
        scoped_orders.ordered_date,
        scoped_orders.gross_amount,
        case
            when scoped_orders.first_shipped_date < terms.term_start
                then scoped_orders.first_shipped_date
        end as shipped_date
    from terms
    inner join scoped_orders
        on terms.term_start > scoped_orders.ordered_date
    where not scoped_orders.is_cancelled
),

refunds_before_term as (
    select
        terms.term_start,
        scoped_refunds.scope_code,
        scoped_refunds.order_id,
        sum(scoped_refunds.refund_amount) as refund_amount
    from terms
    inner join scoped_refunds
        on terms.term_start > scoped_refunds.returned_date
    group by terms.term_start, scoped_refunds.scope_code, scoped_refunds.order_id
),

orders_netted as (
    select
        orders_before_term.*,
        coalesce(refunds_before_term.refund_amount, 0) as refund_amount
    from orders_before_term
    left join refunds_before_term
        on
            orders_before_term.term_start = refunds_before_term.term_start
            and orders_before_term.scope_code = refunds_before_term.scope_code
            and orders_before_term.order_id = refunds_before_term.order_id
),

orders_flagged as (
    select
        *,
        refund_amount > 0 and refund_amount >= gross_amount as is_fully_refunded
    from orders_netted
),

{# one linear chain from here on, each step read once: DuckDB materialises a CTE that two
    steps read, and at large the orders before each term are hundreds of millions of rows #}
purchase_dates as (
    select
        term_start,
        scope_code,
        customer_id,
        ordered_date,
        count(*) as placed_orders,
        sum(case when is_fully_refunded then 1 else 0 end) as fully_refunded_orders,
        sum(case when refund_amount > 0 then 1 else 0 end) as refunded_orders,
        sum(gross_amount) as gross_sales,
        sum(refund_amount) as refunded_amount,
        sum(case when not is_fully_refunded then 1 else 0 end) as purchase_orders,
        max(case when not is_fully_refunded then shipped_date end) as last_shipped_date
    from orders_flagged
    group by term_start, scope_code, customer_id, ordered_date
),

{# a purchase day is a date with an order that counts as a purchase; its interval is the days
    since the customer's previous purchase day in the scope before the term #}
purchase_dates_sequenced as (
    select
        *,
        case
            when purchase_orders > 0
                then {{ days_between(
                    'max(case when purchase_orders > 0 then ordered_date end) over ('
                    ~ 'partition by term_start, scope_code, customer_id order by ordered_date '
                    ~ 'rows between unbounded preceding and 1 preceding)',
                    'ordered_date',
                ) }}
        end as interval_days
    from purchase_dates
),

customer_totals as (
    select
        term_start,
        scope_code,
        customer_id,
        sum(placed_orders) as placed_orders,
        sum(fully_refunded_orders) as fully_refunded_orders,
        sum(refunded_orders) as refunded_orders,
        sum(gross_sales) as gross_sales,
        sum(refunded_amount) as refunded_amount,
        sum(purchase_orders) as purchase_orders,
        sum(case when purchase_orders > 0 then 1 else 0 end) as purchase_days,
        min(case when purchase_orders > 0 then ordered_date end) as first_purchase_date,
        max(case when purchase_orders > 0 then ordered_date end) as last_purchase_date,
        max(last_shipped_date) as last_shipped_date,
        count(interval_days) as intervals,
        avg(interval_days) as mean_interval_days,
        stddev_samp(interval_days) as interval_stddev_days
    from purchase_dates_sequenced
    group by term_start, scope_code, customer_id
),

final as (
    select
        customer_totals.term_start,
        customer_totals.scope_code,
        customer_totals.customer_id,
        cast(customer_totals.placed_orders as {{ dbt.type_int() }}) as placed_orders,
        cast(customer_totals.purchase_orders as {{ dbt.type_int() }}) as purchase_orders,
        cast(customer_totals.refunded_orders as {{ dbt.type_int() }}) as refunded_orders,
        cast(customer_totals.fully_refunded_orders as {{ dbt.type_int() }}) as fully_refunded_orders,
        cast(customer_totals.purchase_days as {{ dbt.type_int() }}) as purchase_days,
        customer_totals.first_purchase_date,
        customer_totals.last_purchase_date,
        customer_totals.last_shipped_date,
        cast(customer_totals.gross_sales as {{ dbt.type_numeric() }}) as gross_sales,
        cast(customer_totals.refunded_amount as {{ dbt.type_numeric() }}) as refunded_amount,
        cast(
            customer_totals.gross_sales - customer_totals.refunded_amount as {{ dbt.type_numeric() }}
        ) as net_sales,
        {{ days_between('customer_totals.first_purchase_date', 'customer_totals.term_start') }} as days_known,
        {{ days_between(
            'case when customer_totals.last_shipped_date > customer_totals.last_purchase_date'
            ~ ' then customer_totals.last_shipped_date else customer_totals.last_purchase_date end',
            'customer_totals.term_start',
        ) }} as days_silent,
        {{ days_between(
            'customer_totals.first_purchase_date', 'customer_totals.last_purchase_date'
        ) }} as active_span_days,
        cast(customer_totals.intervals as {{ dbt.type_int() }}) as intervals,
        {{ rounded('customer_totals.mean_interval_days', 2) }} as mean_interval_days,
        case
            when
                customer_totals.intervals >= {{ min_intervals }}
                and customer_totals.mean_interval_days > 0
                then {{ rounded(
                    'customer_totals.interval_stddev_days / customer_totals.mean_interval_days', 4
                ) }}
        end as interval_cv,
        (
            select max(watermarks._watermark_load_id)
            from {{ ref('int_segment_orders_scoped') }} as watermarks
        ) as _watermark_load_id,
        {{ as_of_date() }} as _staged_as_of,
        {{ run_started_timestamp() }} as _profiled_at,
        '{{ rules_fingerprint() }}' as _rules_fingerprint
    from customer_totals
    where customer_totals.purchase_days > 0
)

select * from final

{#- Response to exports: per audience, channel, export date and stable segment, how many of
    the exported and of the held-out customers purchased within
    `audience_response_window_days` days after the export date, and the lift. Exports from
    the night after they were made: the night's own exports are written after the models are
    built (and nothing after the export date is known yet), so a rerun of the same night
    gives the same report. -#}

with

export_history as (
    select * from {{ source('exports', 'export_history') }}
),

segment_members as (
    select * from {{ ref('stable_segment_members') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

exported_customers as (
    select distinct
        audience,
        channel,
        export_date,
        customer_id,
        is_holdout
    from export_history
    where export_date < {{ as_of_date() }}
),

segmented as (
    select
        exported_customers.audience,
        exported_customers.channel,
        exported_customers.export_date,
        exported_customers.customer_id,
        exported_customers.is_holdout,
        coalesce(segment_members.segment, 'none') as segment,
        segment_members.segment_rank,
        segment_members.segment_label_ja,
        segment_members.segment_label_en
    from exported_customers
    left join segment_members
        on
            exported_customers.customer_id = segment_members.customer_id
            and exported_customers.export_date >= segment_members.term_start
            and exported_customers.export_date < segment_members.term_end
),

customer_responses as (
    select
        segmented.audience,
        segmented.channel,
        segmented.export_date,
        segmented.customer_id,
        segmented.is_holdout,
        segmented.segment,
        segmented.segment_rank,
        segmented.segment_label_ja,
        segmented.segment_label_en,
        count(orders.order_id) > 0 as has_purchased,
        coalesce(sum(orders.net_amount), 0) as net_sales_in_window
    from segmented
    left join orders
        on
            segmented.customer_id = orders.customer_id
            and orders.is_purchase
            and segmented.export_date < orders.ordered_date
            and {{ dbt.dateadd('day', number_var('audience_response_window_days'), 'segmented.export_date') }}
            >= orders.ordered_date
    group by
        segmented.audience,
        segmented.channel,
        segmented.export_date,
        segmented.customer_id,
        segmented.is_holdout,
        segmented.segment,
        segmented.segment_rank,
        segmented.segment_label_ja,
        segmented.segment_label_en
),

aggregated as (
    select
        audience,
        channel,
        export_date,
        segment,
        max(segment_rank) as segment_rank,
        max(segment_label_ja) as segment_label_ja,
        max(segment_label_en) as segment_label_en,
        sum(case when not is_holdout then 1 else 0 end) as exported_customers,
        sum(case when is_holdout then 1 else 0 end) as holdout_customers,
        sum(case when not is_holdout and has_purchased then 1 else 0 end) as exported_purchasers,
        sum(case when is_holdout and has_purchased then 1 else 0 end) as holdout_purchasers,
        sum(case when not is_holdout then net_sales_in_window else 0 end) as exported_net_sales,
        sum(case when is_holdout then net_sales_in_window else 0 end) as holdout_net_sales
    from customer_responses
    group by
        audience,
        channel,
        export_date,
        segment
),

rated as (
    select
        *,
        case
            when exported_customers > 0
                then cast(exported_purchasers as {{ dbt.type_float() }}) / exported_customers
        end as exported_purchase_rate,
        case
            when holdout_customers > 0
                then cast(holdout_purchasers as {{ dbt.type_float() }}) / holdout_customers
        end as holdout_purchase_rate,
        case
            when exported_customers > 0
                then cast(exported_net_sales as {{ dbt.type_float() }}) / exported_customers
        end as exported_net_sales_per_customer,
        case
            when holdout_customers > 0
                then cast(holdout_net_sales as {{ dbt.type_float() }}) / holdout_customers
        end as holdout_net_sales_per_customer,
        cast(
            {{ dbt.dateadd('day', number_var('audience_response_window_days'), 'export_date') }} as date
        ) as window_end_date
    from aggregated
),

final as (
    select
        audience,
        channel,
        export_date,
        segment,
        segment_rank,
        segment_label_ja,
        segment_label_en,
        {{ as_of_date() }} as as_of_date,
        window_end_date,
        window_end_date <= {{ as_of_date() }} as is_window_complete,
        exported_customers,
        holdout_customers,
        exported_purchasers,
        holdout_purchasers,
        exported_purchase_rate,
        holdout_purchase_rate,
        exported_purchase_rate - holdout_purchase_rate as purchase_rate_lift,
        exported_net_sales,
        holdout_net_sales,
        exported_net_sales_per_customer,
        holdout_net_sales_per_customer,
        exported_net_sales_per_customer - holdout_net_sales_per_customer as net_sales_per_customer_lift
    from rated
)

select * from final

{#- The records of one feed that the warehouse does not use because they are dated in the
    future (int_events_future_dated): a key with a raw row dated after `limit_date` (SQL) and
    no version in staging. `raw` and `staged` name the feed's raw and staging relations (or
    CTEs); `order_id` and `customer_id` are SQL over the raw rows of the key (aggregates, or
    the key itself). -#}
{% macro unseen_future_records(feed, raw, staged, key, event_at, order_id, customer_id, limit_date) -%}
    select
        '{{ feed }}' as feed,
        future_records.record_id,
        future_records.order_id,
        future_records.customer_id,
        future_records.event_date
    from (
        select
            {{ key }} as record_id,
            {{ order_id }} as order_id,
            {{ customer_id }} as customer_id,
            min(cast({{ event_at }} as date)) as event_date
        from {{ raw }}
        where cast({{ event_at }} as date) > {{ limit_date }}
        group by {{ key }}
    ) as future_records
    left join {{ staged }}
        on future_records.record_id = {{ staged }}.{{ key }}
    where {{ staged }}.{{ key }} is null
{%- endmacro %}

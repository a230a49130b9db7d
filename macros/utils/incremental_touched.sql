{#- The pre-hook of an incremental model that recomputes only touched rows (the web models,
    int_orders_enriched): delete the rows matching `touched`, the filter the model selects its
    rows with (`true` when rebuilding: every row goes). Nothing on the first run. -#}
{% macro touched_rows_pre_hook(touched) -%}
    {%- if staging_watermark() is not none or is_incremental() -%}
        delete from {{ this }} where {{ touched }}
    {%- endif -%}
{%- endmacro %}

{#- `and`-able filter on order_id for int_orders_enriched: the orders tonight's staged rows can
    change, that is the orders incremental staging re-picks and the orders of the order lines,
    shipments and returns it re-picks (of every raw version: a shipment moved to another order
    touches both); true when rebuilding. -#}
{% macro orders_touched() -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is none -%}
        true
    {%- else -%}
        order_id in (
            select order_id from ({{ staging_changed_keys('orders', watermark) }}) as orders_changed
            union
            select order_id from ({{ staging_changed_keys('order_lines', watermark) }}) as lines_changed
            {%- for feed, key in [('shipments', 'shipment_id'), ('returns', 'return_id')] %}
            union
            select order_id
            from {{ source('shop', feed) }}
            where {{ key }} in (
                select {{ key }} from ({{ staging_changed_keys(feed, watermark) }}) as {{ feed }}_changed
            )
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- The CTEs that aggregate web activity per `grain` (visitor_id or customer_id), shared by
    int_visitors_aggregated and int_customers_web_aggregated. They read the rows of the
    relations `sessions` (int_sessions_attributed) and `page_views` (int_page_views_attributed)
    where `filter` holds. Each aggregate reads its relation itself, not through a CTE that
    others read too: DuckDB materialises a CTE read twice, uncompressed, and at large that is
    tens of millions of sessions and hundreds of millions of page views spilled to disk.
    They end in `web_activity`: one row per grain value with its visits, page views, time on
    site, conversions, distinct pages and products viewed, the latest product viewed and the
    main traffic source and device (ties: the most recent, then the lower name). For customers
    it also counts their visitor ids (`visitors`). Rendered after the caller's `with`, each CTE
    ending in a comma. -#}
{% macro web_activity_ctes(grain, sessions, page_views, filter) -%}
visits as (
    select
        {{ grain }},
        min(started_date) as first_visit_date,
        max(started_date) as last_visit_date,
        count(*) as visits,
        cast(sum(coalesce(page_views, 0)) as {{ dbt.type_bigint() }}) as page_views,
        cast(sum(coalesce(duration_seconds, 0)) as {{ dbt.type_bigint() }}) as time_on_site_seconds,
        cast(sum(case when is_converted then 1 else 0 end) as {{ dbt.type_bigint() }}) as conversions,
        max(case when is_converted then started_date end) as last_conversion_date
    from {{ sessions }}
    where {{ filter }}
    group by {{ grain }}
),

{% for dimension in ['traffic_source', 'device_type'] -%}
{{ dimension }}s as (
    select
        {{ grain }},
        {{ dimension }},
        row_number() over (
            partition by {{ grain }}
            order by count(*) desc, max(started_at) desc, {{ dimension }} asc
        ) as value_rank
    from {{ sessions }}
    where {{ filter }} and {{ dimension }} is not null
    group by {{ grain }}, {{ dimension }}
),

{% endfor -%}
{#- distinct values in two steps (distinct pairs, then counts): a grouped count(distinct)
    keeps a hash set per group in memory, pairs are an ordinary aggregate that spills; page
    URLs by a compact key (macros/utils/distinct_key.sql) -#}
{%- set distinct_counts = [
    (page_views, 'page_url', 'distinct_pages_viewed', distinct_key('page_url')),
] -%}
{%- if grain != 'visitor_id' -%}
    {%- do distinct_counts.append((sessions, 'visitor_id', 'visitors', 'visitor_id')) -%}
{%- endif %}
{% for relation, column, measure, key in distinct_counts -%}
{{ measure }}_pairs as (
    select distinct
        {{ grain }},
        {{ key }} as distinct_value
    from {{ relation }}
    where {{ filter }} and {{ column }} is not null
),

{{ measure }} as (
    select
        {{ grain }},
        count(*) as {{ measure }}
    from {{ measure }}_pairs
    group by {{ grain }}
),

{% endfor -%}
{#- products in one aggregate: each product's latest view, then their count and the latest
    (a window over the products viewed, not over every page view) -#}
product_pairs as (
    select
        {{ grain }},
        sku,
        max(viewed_at) as last_viewed_at
    from {{ page_views }}
    where {{ filter }} and sku is not null
    group by {{ grain }}, sku
),

distinct_products_viewed as (
    select
        {{ grain }},
        count(*) as distinct_products_viewed
    from product_pairs
    group by {{ grain }}
),

product_views as (
    select
        {{ grain }},
        sku,
        row_number() over (
            partition by {{ grain }}
            order by last_viewed_at desc, sku asc
        ) as recency_rank
    from product_pairs
),

web_activity as (
    select
        visits.{{ grain }},
        {%- if grain != 'visitor_id' %}
        visitors.visitors,
        {%- endif %}
        visits.first_visit_date,
        visits.last_visit_date,
        visits.visits,
        visits.page_views,
        visits.time_on_site_seconds,
        visits.conversions,
        visits.last_conversion_date,
        coalesce(distinct_pages_viewed.distinct_pages_viewed, 0) as distinct_pages_viewed,
        coalesce(distinct_products_viewed.distinct_products_viewed, 0) as distinct_products_viewed,
        product_views.sku as last_viewed_sku,
        traffic_sources.traffic_source as main_traffic_source,
        device_types.device_type as main_device_type
    from visits
    {%- if grain != 'visitor_id' %}
    left join visitors
        on visits.{{ grain }} = visitors.{{ grain }}
    {%- endif %}
    left join distinct_pages_viewed
        on visits.{{ grain }} = distinct_pages_viewed.{{ grain }}
    left join distinct_products_viewed
        on visits.{{ grain }} = distinct_products_viewed.{{ grain }}
    left join product_views
        on
            visits.{{ grain }} = product_views.{{ grain }}
            and product_views.recency_rank = 1
    left join traffic_sources
        on
            visits.{{ grain }} = traffic_sources.{{ grain }}
            and traffic_sources.value_rank = 1
    left join device_types
        on
            visits.{{ grain }} = device_types.{{ grain }}
            and device_types.value_rank = 1
),
{%- endmacro %}

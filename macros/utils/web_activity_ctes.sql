{#- The CTEs that aggregate web activity per `grain` (visitor_id or customer_id), shared by
    int_visitors_aggregated and int_customers_web_aggregated. They read the CTEs `sessions`
    (the sessions to aggregate, with the grain column) and `page_views` of the calling model,
    and end in `web_activity`: one row per grain value with its visits, page views, time on
    site, conversions, distinct pages and products viewed, the latest product viewed and the
    main traffic source and device (ties: the most recent, then the lower name). For customers
    it also counts their visitor ids (`visitors`). Rendered after the caller's `with`, each CTE
    ending in a comma. -#}
{% macro web_activity_ctes(grain) -%}
visits as (
    select
        {{ grain }},
        {%- if grain != 'visitor_id' %}
        count(distinct visitor_id) as visitors,
        {%- endif %}
        min(started_date) as first_visit_date,
        max(started_date) as last_visit_date,
        count(*) as visits,
        cast(sum(coalesce(page_views, 0)) as {{ dbt.type_bigint() }}) as page_views,
        cast(sum(coalesce(duration_seconds, 0)) as {{ dbt.type_bigint() }}) as time_on_site_seconds,
        cast(sum(case when is_converted then 1 else 0 end) as {{ dbt.type_bigint() }}) as conversions,
        max(case when is_converted then started_date end) as last_conversion_date
    from sessions
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
    from sessions
    where {{ dimension }} is not null
    group by {{ grain }}, {{ dimension }}
),

{% endfor -%}
grain_page_views as (
    select
        sessions.{{ grain }},
        page_views.page_url,
        page_views.sku,
        page_views.viewed_at
    from page_views
    inner join sessions
        on page_views.session_id = sessions.session_id
),

pages as (
    select
        {{ grain }},
        count(distinct page_url) as distinct_pages_viewed,
        count(distinct sku) as distinct_products_viewed
    from grain_page_views
    group by {{ grain }}
),

product_views as (
    select
        {{ grain }},
        sku,
        row_number() over (
            partition by {{ grain }}
            order by viewed_at desc, sku asc
        ) as recency_rank
    from grain_page_views
    where sku is not null
),

web_activity as (
    select
        visits.*,
        coalesce(pages.distinct_pages_viewed, 0) as distinct_pages_viewed,
        coalesce(pages.distinct_products_viewed, 0) as distinct_products_viewed,
        product_views.sku as last_viewed_sku,
        traffic_sources.traffic_source as main_traffic_source,
        device_types.device_type as main_device_type
    from visits
    left join pages
        on visits.{{ grain }} = pages.{{ grain }}
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

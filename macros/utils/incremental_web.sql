{#- Incremental web models (int_sessions_attributed, int_visitors_aggregated,
    int_customers_web_aggregated): each run recomputes only the visitors, or customers, that
    tonight's session and page-view rows can change, from all of their staged rows.

    A visitor is touched when any version (in raw) of one of their sessions is among the keys
    incremental staging re-picks tonight (macros/utils/incremental_staging.sql), directly or
    through a page view of that session. Old versions count too: a session corrected from
    visitor A to visitor B touches both. A customer is touched when they appear on any raw
    version of a session of a touched visitor: that covers the customers a session is attributed
    to before and after (its own customer, or its visitor's latest identified customer).

    The tables carry `_load_id` (the newest load of the staged rows they were built from) and
    `_staged_as_of` (the run's as_of_date), so that staging_watermark() reads their watermark as
    it reads a staging table's. As in staging, a run for an earlier as_of_date, the first run
    and `--full-refresh` rebuild from all staged rows. -#}

{#- The visitors touched since `watermark` by rows of `feeds` (a subquery of visitor_id). -#}
{% macro web_touched_visitors(watermark, feeds) -%}
    select distinct visitor_id
    from {{ source('shop', 'sessions') }}
    where
        {%- for feed in feeds %}
        {% if not loop.first %}or {% endif %}session_id in (
            select session_id from ({{ staging_changed_keys(feed, watermark) }}) as {{ feed }}_changed
        )
        {%- endfor %}
{%- endmacro %}

{#- `and`-able filter on `column`: the rows of the visitors (`grain` 'visitor') or customers
    ('customer') touched by rows of `feeds`; true when rebuilding. -#}
{% macro web_touched(grain, column, feeds=['sessions', 'page_views']) -%}
    {%- set watermark = staging_watermark() -%}
    {%- if watermark is none -%}
        true
    {%- elif grain == 'visitor' -%}
        {{ column }} in ({{ web_touched_visitors(watermark, feeds) }})
    {%- else -%}
        {{ column }} in (
            select distinct nullif(trim(customer_id), '')
            from {{ source('shop', 'sessions') }}
            where visitor_id in ({{ web_touched_visitors(watermark, feeds) }})
        )
    {%- endif -%}
{%- endmacro %}

{#- The newest load among the staged rows of `relations` (a scalar subquery). -#}
{% macro newest_staged_load(relations) -%}
    (
        select max(_load_id) from (
            {%- for relation in relations %}
            {% if not loop.first %}union all {% endif %}select max(_load_id) as _load_id from {{ relation }}
            {%- endfor %}
        ) as loads
    )
{%- endmacro %}

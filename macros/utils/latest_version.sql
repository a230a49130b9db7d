{#- Ranks the versions of each key so that rank 1 is the version in force on as_of_date:
    the greatest `version_column` not after as_of_date (ties: the later file, then the later
    line). An undated version counts as in force and older than any dated one. A key whose
    versions are all dated after as_of_date keeps its earliest version, so a full extract
    stamped with today's date still counts for a past as_of_date. -#}
{% macro latest_version_rank(key_columns, version_column='updated_at') -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            case
                when {{ version_column }} is null or {{ version_column }} < {{ as_of_cutoff() }} then 0
                else 1
            end,
            case when {{ version_column }} < {{ as_of_cutoff() }} then {{ version_column }} end desc nulls last,
            {{ version_column }} asc,
            _load_id desc,
            _source_line desc
    )
{%- endmacro %}

{#- The version time of a raw row for latest_version_rank: `version_column` (updated_at) when
    delivered. An empty one never makes a row older than a version loaded before it: the row
    takes the later of `fallback_column` (the event time, e.g. ordered_at; none for feeds
    without one) and the latest version time among the rows of its key loaded earlier (by
    load, then line), and so wins over them on load order. Only the first version of a key
    falls back to the event time alone. -#}
{% macro version_time(key_columns, version_column='updated_at', fallback_column=none) -%}
    {%- set earlier -%}
        max({{ version_column }}) over (
            partition by {{ key_columns | join(', ') }}
            order by _load_id, _source_line
            rows between unbounded preceding and 1 preceding
        )
    {%- endset -%}
    coalesce(
        {{ version_column }},
        {%- if fallback_column %}
        case
            when {{ earlier }} > {{ fallback_column }} then {{ earlier }}
            else {{ fallback_column }}
        end
        {%- else %}
        {{ earlier }}
        {%- endif %}
    )
{%- endmacro %}

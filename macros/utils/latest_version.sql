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

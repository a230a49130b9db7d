{#- Generic test for band tables (lower bound inclusive, upper bound exclusive, empty upper =
    open): within each partition, ordered by lower bound, the first band starts at `start_at`,
    every band ends where the next begins (no gap, no overlap), and only the last band is
    open-ended. Returns the offending bands. -#}
{% test bands_are_contiguous(model, lower_column='lower_bound', upper_column='upper_bound',
                             partition_by=none, start_at=0) %}
    {%- set partition = partition_by if partition_by else "'all'" -%}
    with

    ordered as (
        select
            {{ partition }} as band_partition,
            {{ lower_column }} as lower_value,
            {{ upper_column }} as upper_value,
            lead({{ lower_column }}) over (
                partition by {{ partition }} order by {{ lower_column }}
            ) as next_lower_value,
            row_number() over (
                partition by {{ partition }} order by {{ lower_column }}
            ) as band_number
        from {{ model }}
    )

    select *
    from ordered
    where
        lower_value is null
        or (band_number = 1 and lower_value <> {{ start_at }})
        or (upper_value is not null and upper_value <= lower_value)
        or (next_lower_value is not null and (upper_value is null or upper_value <> next_lower_value))
        or (next_lower_value is null and upper_value is not null)
{% endtest %}

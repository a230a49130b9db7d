{#- Generic test: the model has at most `max_rows` rows (optionally counted per `group_by`
    column). Returns the groups that have more. -#}
{% test row_count_at_most(model, max_rows, group_by=none) %}
    select
        {{ group_by if group_by else "'all'" }} as row_group,
        count(*) as row_count
    from {{ model }}
    group by {{ group_by if group_by else "'all'" }}
    having count(*) > {{ max_rows }}
{% endtest %}

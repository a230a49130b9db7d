{#- Generic test: the combination of the given columns is unique (through a hash of the
    combination first: `macros/utils/duplicate_keys.sql`). -#}
{% test unique_combination(model, combination_of_columns) %}
    {{ duplicate_keys(model, combination_of_columns) }}
{% endtest %}

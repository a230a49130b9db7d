{#- The keys of a relation that occur more than once, found in two steps so that a key test
    over hundreds of millions of rows stays small in memory: first a group-by of one 64-bit hash
    per row (`key_hash`), then the exact group-by of the key columns for the rows whose hash
    occurs twice or more. Two keys hashing alike only make both candidates for the exact step,
    so the result is exact. A group-by of the key columns themselves (page URLs, customer ids)
    held gigabytes; two such tests running at once on the large benchmark's nightly run (dbt's
    two threads share one DuckDB memory limit) ran out of memory.

    `candidate_filter`: a predicate on the relation's rows (bare column names) limiting which
    rows' hashes are counted; every row with a repeated hash is then compared exactly. -#}

{#- One hashed value of the key columns (a join and group-by key of 8 bytes on DuckDB). -#}
{% macro key_hash(columns) -%}
    {{ return(adapter.dispatch('key_hash')(columns)) }}
{%- endmacro %}

{% macro default__key_hash(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro duckdb__key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro duplicate_keys(relation, keys, candidate_filter=none) %}
    with hashed_rows as (
        select {{ key_hash(keys) }} as key_hash
        from {{ relation }}
        {%- if candidate_filter %}
        where {{ candidate_filter }}
        {%- endif %}
    ),

    repeated_hashes as (
        select key_hash
        from hashed_rows
        group by key_hash
        having count(*) > 1
    ),

    candidate_rows as (
        select {{ keys | join(', ') }}
        from {{ relation }}
        where {{ key_hash(keys) }} in (select repeated_hashes.key_hash from repeated_hashes)
    ),

    final as (
        select
            {{ keys | join(', ') }},
            count(*) as occurrences
        from candidate_rows
        group by {{ keys | join(', ') }}
        having count(*) > 1
    )

    select * from final
{% endmacro %}

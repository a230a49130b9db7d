{#- Incremental models that keep rows computed by earlier runs store on each row a fingerprint
    of the rules it was computed with (`_rules_fingerprint`): the model's own SQL, the seeds it
    reads directly and the vars named in its `rules_vars` config. When a shop edits one of them,
    the kept rows are stale: the next run notices a different fingerprint and recomputes every
    row, as `--full-refresh` would (customer_rfm_history, int_orders_enriched). -#}

{#- The fingerprint of the rules this model's rows are computed with: the model's own SQL, the
    seeds it reads directly, the vars named in its `rules_vars` config, and the SQL and directly
    read seeds of the models named in its `rules_models` config. -#}
{% macro rules_fingerprint() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [model.unique_id ~ '=' ~ model.checksum.checksum] -%}
    {%- for node_id in model.depends_on.nodes | sort if node_id.startswith('seed.') -%}
        {%- do parts.append(node_id ~ '=' ~ graph.nodes[node_id].checksum.checksum) -%}
    {%- endfor -%}
    {#- models upstream whose SQL and directly read seeds shape this model's rows (their own
        incremental rows are recomputed by their fingerprints, not by this one) -#}
    {%- for name in config.get('rules_models', []) | sort -%}
        {%- set node_id = 'model.' ~ project_name ~ '.' ~ name -%}
        {%- set node = graph.nodes.get(node_id) -%}
        {%- if node is none -%}
            {{ exceptions.raise_compiler_error("rules_models of " ~ model.name ~ ": no model " ~ name) }}
        {%- endif -%}
        {%- do parts.append(node_id ~ '=' ~ node.checksum.checksum) -%}
        {%- for seed_id in node.depends_on.nodes | sort if seed_id.startswith('seed.') -%}
            {%- do parts.append(seed_id ~ '=' ~ graph.nodes[seed_id].checksum.checksum) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name in config.get('rules_vars', []) -%}
        {%- do parts.append('var.' ~ name ~ '=' ~ tojson(var(name, ''))) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join(';'))) }}
{%- endmacro %}

{#- True when every row of this incremental model was computed with the current rules (and the
    table has the `_rules_fingerprint` column at all). -#}
{% macro rules_unchanged() -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if '_rules_fingerprint' not in columns -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stale = run_query(
        "select count(*) from " ~ this ~ " where _rules_fingerprint is null"
        ~ " or _rules_fingerprint <> '" ~ rules_fingerprint() ~ "'"
    ) -%}
    {{ return(stale.rows[0][0] == 0) }}
{%- endmacro %}


{#- The pre-hook of an append-once model whose kept rows carry `_rules_fingerprint`
    (int_customer_months_snapshotted): delete the rows computed with other rules, so that the
    model computes them again; every row when the table predates the column. Nothing on the
    first run. -#}
{% macro stale_rules_pre_hook() -%}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        delete from {{ this }}
        {%- if '_rules_fingerprint' in columns %}
        where _rules_fingerprint <> '{{ rules_fingerprint() }}' or _rules_fingerprint is null
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

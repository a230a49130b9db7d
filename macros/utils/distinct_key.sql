{#- A compact stand-in for a long text value when only its distinctness counts (distinct pages
    viewed): an aggregate over pairs of (customer or visitor, page URL) holds and spills an 8-byte
    hash per pair instead of the URL, which at hundreds of millions of page views is the
    difference between a few and tens of gigabytes. Two URLs of one visitor hashing alike would
    be counted once: with 64-bit hashes and a few thousand URLs per visitor, a chance of about
    one in 10^12. Engines without a 64-bit hash function keep the value itself. -#}
{% macro distinct_key(expression) -%}
    {{ return(adapter.dispatch('distinct_key')(expression)) }}
{%- endmacro %}

{% macro default__distinct_key(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro duckdb__distinct_key(expression) -%}
    hash({{ expression }})
{%- endmacro %}

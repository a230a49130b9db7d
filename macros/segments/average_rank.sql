{#- The rank of `expression` within `partition_by` (ascending, 1 = smallest) with ties given
    the average of the ranks they share (the "fractional" rank used by Spearman's rank
    correlation): three customers tied for ranks 4-6 all get 5. Plain window functions. -#}
{% macro average_rank(expression, partition_by) -%}
    (
        rank() over (partition by {{ partition_by }} order by {{ expression }})
        + (count(*) over (partition by {{ partition_by }}, {{ expression }}) - 1) / 2.0
    )
{%- endmacro %}

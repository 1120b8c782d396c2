{#- The rows of `relation` that are the latest version of their key: a row delivered twice,
    re-delivered in a later batch, or changed later keeps only its newest version.
    Returns every column of the relation; `order_by` ranks the newest first.
    DISTINCT ON rather than a row_number() = 1 filter: the planner sizes it as one row per
    key from the key's statistics, where it guessed a rank filter at 1 row in 200, and a
    join planned on that guess became a nested loop (a QA relationships test: 2 s for
    6,000 deductions, quadratic in them). -#}
{% macro latest_per_key(relation, key, order_by) -%}
    select distinct on ({{ key }}) versions.*
    from {{ relation }} as versions
    order by {{ key }}, {{ order_by }}
{%- endmacro %}

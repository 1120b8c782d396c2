{#- The rows of `relation` that are the latest version of their key: a row delivered twice,
    re-delivered in a later batch, or changed later keeps only its newest version.
    Returns every column of the relation; `order_by` ranks the newest first. -#}
{% macro latest_per_key(relation, key, order_by) -%}
    select ranked.*
    from (
        select
            versions.*,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as version_rank
        from {{ relation }} as versions
    ) as ranked
    where ranked.version_rank = 1
{%- endmacro %}

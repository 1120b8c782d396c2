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

{#- The keys of `latest` (a latest_per_key relation) whose newest known version was
    quarantined: raw.quarantine keeps the key and version of a rejected version of a
    versioned table (extractors/contracts.py VERSIONED). A quarantined version as new as
    the kept one or newer (or of unreadable time) withholds the key: its older valid
    version counts in no KPI until a valid newer version arrives. -#}
{% macro withheld_keys(latest, key, raw_table, version_number=none) -%}
    select distinct {{ latest }}.{{ key }}
    from {{ latest }}
    inner join {{ source('landing', 'quarantine') }} as quarantined
        on
            quarantined.raw_table = '{{ raw_table }}'
            and {{ latest }}.{{ key }} = quarantined.record_key
            and (
                quarantined.record_version_at is null
                or {{ latest }}.updated_at < quarantined.record_version_at
                or (
                    {{ latest }}.updated_at = quarantined.record_version_at
                    {%- if version_number %}
                    and (
                        quarantined.record_version_number is null
                        or {{ latest }}.{{ version_number }} is null
                        or {{ latest }}.{{ version_number }} <= quarantined.record_version_number
                    )
                    {%- endif %}
                )
            )
{%- endmacro %}

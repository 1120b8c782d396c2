{#- The local business date of a timestamptz in the center's time zone. -#}
{% macro local_date(column) -%}
    ({{ column }} at time zone '{{ var("center_timezone") }}')::date
{%- endmacro %}

{#- `column` (a timestamptz) falls on local day `day` or later: the same test as
    local_date(column) >= day, written as a range on the column so that its index serves
    it instead of every row being converted. -#}
{% macro on_or_after_local_day(column, day) -%}
    {{ column }} >= ({{ day }})::timestamp at time zone '{{ var("center_timezone") }}'
{%- endmacro %}

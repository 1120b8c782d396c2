{#- The local business date of a timestamptz in the center's time zone. -#}
{% macro local_date(column) -%}
    ({{ column }} at time zone '{{ var("center_timezone") }}')::date
{%- endmacro %}

{#- The window an incremental model rebuilds, from the variables the daily build passes
    (warehouse/build_window.py). Without them (a new warehouse, a build by hand) the window
    is everything: '-infinity'. -#}

{#- The first batch date landed, re-landed or removed since the last build. -#}
{% macro batches_rebuilt_from() -%}
    date '{{ var("batches_changed_from", "-infinity") }}'
{%- endmacro %}

{#- The first business day whose contact figures can change: a changed contact is the
    repeat contact of the customer's contacts up to the FCR window before it (one more day:
    the window is in hours, days are local dates). -#}
{% macro contacts_rebuilt_from() -%}
    (date '{{ var("contacts_changed_from", "-infinity") }}' - {{ var("fcr_repeat_window_days") + 1 }})
{%- endmacro %}

{#- Pre-hook of a model rebuilt by business day: drop the days it is about to rebuild. -#}
{% macro delete_rebuilt_days(column="business_date") -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ column }} >= {{ contacts_rebuilt_from() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

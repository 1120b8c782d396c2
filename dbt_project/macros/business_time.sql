{#- Business time: seconds counted only inside the center's working hours, skipping
    holidays (models/intermediate/int_business_calendar.sql).

    business_position(ts, calendar) is the number of business seconds from the calendar's
    start to `ts`; `calendar` is the alias of int_business_calendar joined on the local date
    of `ts` (business_calendar_join). The business time between two moments is the
    difference of their positions: an e-mail received at 17:20 and answered at 08:40 the
    next working morning took 10 + 10 = 20 business minutes. -#}
{% macro business_calendar_join(calendar, ts) -%}
    left join {{ ref('int_business_calendar') }} as {{ calendar }}
        on {{ calendar }}.calendar_date = {{ local_date(ts) }}
{%- endmacro %}

{% macro business_position(ts, calendar) -%}
    ({{ calendar }}.seconds_before + least(
        greatest(extract(epoch from {{ ts }} - {{ calendar }}.opens_at), 0),
        {{ calendar }}.business_seconds
    ))
{%- endmacro %}

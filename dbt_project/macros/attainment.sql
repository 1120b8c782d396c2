{#- Attainment of a KPI value against its target, as a fraction (1.0 = target met).
    higher: (value - floor) / (target - floor); lower: (floor - value) / (floor - target);
    both clamped to [0, cap]. band: 1 inside [band_low, band_high], falling linearly to 0
    at band_falloff outside it. -#}
{% macro attainment(direction, value, floor, target, band_low, band_high, band_falloff, cap) -%}
    case
        when {{ value }} is null then null
        when {{ direction }} = 'higher'
            then least({{ cap }}, greatest(0, ({{ value }} - {{ floor }}) / nullif({{ target }} - {{ floor }}, 0)))
        when {{ direction }} = 'lower'
            then least({{ cap }}, greatest(0, ({{ floor }} - {{ value }}) / nullif({{ floor }} - {{ target }}, 0)))
        when {{ direction }} = 'band' and {{ value }} < {{ band_low }}
            then greatest(0, 1 - ({{ band_low }} - {{ value }}) / nullif({{ band_falloff }}, 0))
        when {{ direction }} = 'band' and {{ value }} > {{ band_high }}
            then greatest(0, 1 - ({{ value }} - {{ band_high }}) / nullif({{ band_falloff }}, 0))
        when {{ direction }} = 'band' then 1
    end
{%- endmacro %}

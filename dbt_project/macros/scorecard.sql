{#- The grade of a total score: the highest band (seed grade_bands, joined as a CTE named
    grade_bands) whose minimum it reaches; excellent also needs no severe QA defect in the
    period. One definition for the monthly and the quarterly/annual scorecards. -#}
{% macro grade_join(total_score, severe_defect_count) -%}
    cross join lateral (
        select
            grade_bands.grade,
            grade_bands.grade_zh
        from grade_bands
        where
            grade_bands.min_total_score <= {{ total_score }}
            and (grade_bands.grade <> 'excellent' or coalesce({{ severe_defect_count }}, 0) = 0)
        order by grade_bands.min_total_score desc
        limit 1
    ) as grade
{%- endmacro %}

{#- One row per period the month belongs to (period_type, period_start), for each of
    `period_types` among month, quarter and year. -#}
{% macro periods_of(month_start, period_types) -%}
    cross join lateral (
        values
        {%- for period_type in period_types %}
        ('{{ period_type }}', date_trunc('{{ period_type }}', {{ month_start }})::date)
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as periods (period_type, period_start)
{%- endmacro %}

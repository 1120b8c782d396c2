{#- The KPI catalog's formulas, defined once: each KPI is sum(numerator) / sum(denominator)
    (times scale) over the additive inputs of agent_days and the monthly supervisor
    inputs, at any grain. A count KPI (praise) is its numerator; its denominator is the
    sample it was counted in. Names and Chinese names are in the seed kpi_catalog. -#}
{% macro kpi_definitions() %}
    {{ return([
        {'code': 'first_response_time', 'numerator': 'first_response_seconds_sum', 'denominator': 'first_response_count'},
        {'code': 'average_handle_time', 'numerator': 'handle_seconds_sum', 'denominator': 'handle_count'},
        {'code': 'first_contact_resolution', 'numerator': 'fcr_resolved_count', 'denominator': 'fcr_eligible_count'},
        {'code': 'ticket_on_time_rate', 'numerator': 'tickets_on_time_count', 'denominator': 'tickets_due_count'},
        {'code': 'information_accuracy', 'numerator': 'qa_accurate_count', 'denominator': 'qa_inspection_count'},
        {'code': 'compliance', 'numerator': 'compliance_score_sum', 'denominator': 'qa_inspection_count'},
        {'code': 'complaint_rate', 'numerator': 'complaint_count', 'denominator': 'contacts_handled'},
        {'code': 'operation_error_rate', 'numerator': 'operation_error_count', 'denominator': 'tickets_handled_count'},
        {'code': 'csat', 'numerator': 'csat_score_sum', 'denominator': 'csat_response_count'},
        {'code': 'csat_satisfied_share', 'numerator': 'csat_satisfied_count', 'denominator': 'csat_response_count'},
        {'code': 'nps', 'numerator': 'nps_promoter_count - nps_detractor_count', 'denominator': 'nps_response_count', 'scale': 100},
        {'code': 'negative_review_share', 'numerator': 'negative_response_count', 'denominator': 'survey_response_count'},
        {'code': 'praise_count', 'numerator': 'praise_count', 'denominator': 'survey_response_count', 'is_count': true},
        {'code': 'teamwork', 'numerator': 'teamwork_rating_sum', 'denominator': 'teamwork_rating_count'},
        {'code': 'training_attendance', 'numerator': 'training_sessions_attended', 'denominator': 'training_sessions_scheduled'},
        {'code': 'exam_score', 'numerator': 'exam_score_sum', 'denominator': 'exam_count'},
        {'code': 'improvement_plan', 'numerator': 'improvement_items_on_time_count', 'denominator': 'improvement_items_due_count'},
        {'code': 'qa_score', 'numerator': 'qa_score_sum', 'denominator': 'qa_inspection_count'},
        {'code': 'discipline_deductions', 'numerator': 'discipline_points', 'denominator': 'supervisor_input_count'},
    ]) }}
{% endmacro %}

{#- The additive inputs of agent_days that every roll-up sums. -#}
{% macro agent_day_input_columns() %}
    {{ return([
        'contacts_handled', 'phone_contacts_handled', 'chat_contacts_handled', 'email_contacts_handled',
        'first_response_seconds_sum', 'first_response_count', 'queue_wait_seconds_sum', 'queue_wait_count',
        'talk_seconds_sum', 'hold_seconds_sum', 'acw_seconds_sum', 'handle_seconds_sum', 'handle_count',
        'fcr_resolved_count', 'fcr_eligible_count', 'tickets_due_count', 'tickets_on_time_count',
        'tickets_handled_count', 'operation_error_count', 'complaint_count',
        'qa_score_sum', 'qa_inspection_count', 'qa_accurate_count', 'compliance_score_sum',
        'qa_severe_defect_count', 'rectifications_due_count', 'rectifications_on_time_count',
        'survey_response_count', 'csat_score_sum', 'csat_response_count', 'csat_satisfied_count',
        'nps_promoter_count', 'nps_detractor_count', 'nps_response_count', 'negative_response_count',
        'praise_count',
    ]) }}
{% endmacro %}

{#- The additive monthly supervisor inputs (int_kpi_inputs_by_agent_team_month). -#}
{% macro supervisor_input_columns() %}
    {{ return([
        'teamwork_rating_sum', 'teamwork_rating_count', 'training_sessions_scheduled',
        'training_sessions_attended', 'exam_score_sum', 'exam_count', 'discipline_points',
        'supervisor_input_count', 'plan_items_due', 'plan_items_closed_on_time',
    ]) }}
{% endmacro %}

{#- Everything a roll-up sums: day inputs, supervisor inputs and the improvement items of both. -#}
{% macro kpi_input_columns() %}
    {{ return(agent_day_input_columns() + supervisor_input_columns()
              + ['improvement_items_on_time_count', 'improvement_items_due_count']) }}
{% endmacro %}

{#- One row per KPI for each row of `relation` (which has the kpi_input_columns summed):
    a lateral VALUES list of (kpi_code, numerator, denominator, kpi_value). -#}
{% macro kpi_values_lateral(relation) -%}
    cross join lateral (
        values
        {%- for kpi in kpi_definitions() %}
        (
            '{{ kpi.code }}',
            ({{ relation }}.{{ kpi.numerator | replace(' - ', ' - ' ~ relation ~ '.') }})::numeric,
            {{ relation }}.{{ kpi.denominator }}::numeric,
            {%- if kpi.get('is_count') %}
            ({{ relation }}.{{ kpi.numerator }})::numeric
            {%- else %}
            ({{ relation }}.{{ kpi.numerator | replace(' - ', ' - ' ~ relation ~ '.') }})::numeric
            / nullif({{ relation }}.{{ kpi.denominator }}, 0) * {{ kpi.get('scale', 1) }}
            {%- endif %}
        ){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as kpi (kpi_code, numerator, denominator, kpi_value)
{%- endmacro %}

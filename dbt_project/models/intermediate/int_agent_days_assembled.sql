-- One row per agent per local business day on which the agent has any KPI input, with the
-- team the agent belonged to that day (agents history), as the data stands now;
-- agent_days keeps the built version and rewrites only the agent-days whose row_hash
-- changed. Every KPI is stored as a
-- numerator and a denominator (or a sum and a count) so that months, quarters, years,
-- teams and the center are ratios of sums, never averages of daily ratios. An input whose
-- source or field is not available is NULL; an available one with no activity that day is 0.
-- Incremental: the days from int_agent_days_rebuild_window on are assembled again.
-- depends_on: {{ ref('int_agent_days_rebuild_window') }}
{{ config(**rebuilt_by_day('agent_days', indexed=true)) }}
{#- Each input: the daily model it comes from, the availability flag that makes it NULL
    (source or field not delivered), and its metrics. -#}
{%- set inputs = [
    ('contacts', 'has_call_center', ['phone_contacts_handled', 'chat_contacts_handled',
        'talk_seconds_sum', 'handle_seconds_sum', 'handle_count', 'fcr_resolved_count',
        'fcr_eligible_count']),
    ('contacts', 'has_queue_wait', ['queue_wait_seconds_sum', 'queue_wait_count']),
    ('contacts', 'has_hold', ['hold_seconds_sum']),
    ('contacts', 'has_acw', ['acw_seconds_sum']),
    ('emails', 'has_first_response', ['email_contacts_handled']),
    ('tickets', 'has_tickets', ['tickets_due_count', 'tickets_on_time_count']),
    ('ticket_work', 'has_first_response', ['tickets_handled_count']),
    ('ticket_work', 'has_operation_errors', ['operation_error_count']),
    ('complaints', 'has_complaints', ['complaint_count']),
    ('qa', 'has_qa', ['qa_score_sum', 'qa_inspection_count', 'qa_accurate_count',
        'compliance_score_sum', 'qa_severe_defect_count']),
    ('rectifications', 'has_qa', ['rectifications_due_count', 'rectifications_on_time_count']),
    ('surveys', 'has_survey', ['survey_response_count', 'csat_score_sum', 'csat_response_count',
        'csat_satisfied_count', 'nps_promoter_count', 'nps_detractor_count',
        'nps_response_count', 'negative_response_count', 'praise_count']),
] %}
{%- set daily_models = {
    'contacts': 'int_contacts_aggregated_to_agent_days',
    'emails': 'int_emails_aggregated_to_agent_days',
    'tickets': 'int_tickets_aggregated_to_agent_days',
    'ticket_work': 'int_ticket_work_aggregated_to_agent_days',
    'complaints': 'int_complaints_aggregated_to_agent_days',
    'qa': 'int_qa_aggregated_to_agent_days',
    'rectifications': 'int_rectifications_aggregated_to_agent_days',
    'surveys': 'int_surveys_aggregated_to_agent_days',
} %}
with

agents as (
    select * from {{ ref('agents') }}
),

available as (
    select * from {{ ref('int_kpi_inputs_available') }}
),
{%- for name, model in daily_models.items() %}

    {{ name }} as (
        select * from {{ ref(model) }}
        {%- if is_incremental() %}
            where business_date >= {{ days_rebuilt_from('agent_days') }}
        {%- endif %}
    ),
{%- endfor %}

agent_days as (
    {%- for name in daily_models %}
        select
            agent_id,
            business_date
        from {{ name }}
        {%- if not loop.last %}
            union{% endif %}
    {%- endfor %}
),

final as (
    select
        agent_days.agent_id,
        agents.team_id,
        {%- for daily, flag, metrics in inputs %}
            {%- for metric in metrics %}
                case when available.{{ flag }} then coalesce({{ daily }}.{{ metric }}, 0) end as {{ metric }},
            {%- endfor %}
        {%- endfor %}
        -- Phone and chat from the call center, e-mail from the CRM: each counts where its
        -- source is available.
        coalesce(contacts.phone_contacts_handled, 0) + coalesce(contacts.chat_contacts_handled, 0)
        + coalesce(emails.email_contacts_handled, 0) as contacts_handled,
        coalesce(contacts.first_response_seconds_sum, 0)
        + coalesce(emails.first_response_seconds_sum, 0) as first_response_seconds_sum,
        coalesce(contacts.first_response_count, 0)
        + coalesce(emails.first_response_count, 0) as first_response_count,
        coalesce(contacts.phone_contacts_handled, 0) + coalesce(contacts.chat_contacts_handled, 0)
        + coalesce(emails.email_contacts_handled, 0) > 0 as is_working_day,
        agent_days.business_date,
        date_trunc('month', agent_days.business_date)::date as month_start
    from agent_days
    cross join available
    -- The team of the day: an agent who moved on the 12th counts for the old team until the 11th.
    left join agents
        on
            agent_days.agent_id = agents.agent_id
            and agent_days.business_date >= agents.valid_from
            and (agents.valid_to is null or agent_days.business_date < agents.valid_to)
    {%- for name in daily_models %}
        left join {{ name }}
            on agent_days.agent_id = {{ name }}.agent_id and agent_days.business_date = {{ name }}.business_date
    {%- endfor %}
)

-- The fingerprint of the agent-day's content: a late record changes it, nothing else does.
select
    final.*,
    md5(final::text) as row_hash
from final

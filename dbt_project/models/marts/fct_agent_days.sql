-- One row per agent per local business day on which the agent has any KPI input. Every
-- KPI is stored as a numerator and a denominator so that months, teams and the center are
-- ratios of sums, never averages of daily ratios.
with

agents as (
    select * from {{ ref('dim_agents') }}
),

contacts as (
    select * from {{ ref('int_contacts_aggregated_to_agent_days') }}
),

emails as (
    select * from {{ ref('int_emails_aggregated_to_agent_days') }}
),

tickets as (
    select * from {{ ref('int_tickets_aggregated_to_agent_days') }}
),

complaints as (
    select * from {{ ref('int_complaints_aggregated_to_agent_days') }}
),

surveys as (
    select * from {{ ref('int_surveys_aggregated_to_agent_days') }}
),

qa as (
    select * from {{ ref('int_qa_aggregated_to_agent_days') }}
),

agent_days as (
    select
        agent_id,
        business_date
    from contacts
    union
    select
        agent_id,
        business_date
    from emails
    union
    select
        agent_id,
        business_date
    from tickets
    union
    select
        agent_id,
        business_date
    from complaints
    union
    select
        agent_id,
        business_date
    from surveys
    union
    select
        agent_id,
        business_date
    from qa
),

available as (
    select * from {{ ref('int_kpi_inputs_available') }}
),

final as (
    -- A KPI input whose source or field is not available is NULL; an available one with no
    -- activity that day is 0.
    select
        agent_days.agent_id,
        agents.team_id,
        case when available.has_call_center then coalesce(contacts.phone_contacts_handled, 0) end
            as phone_contacts_handled,
        case when available.has_call_center then coalesce(contacts.chat_contacts_handled, 0) end
            as chat_contacts_handled,
        case when available.has_crm then coalesce(emails.email_contacts_handled, 0) end as email_contacts_handled,
        coalesce(contacts.phone_contacts_handled, 0)
        + coalesce(contacts.chat_contacts_handled, 0)
        + coalesce(emails.email_contacts_handled, 0) as contacts_handled,
        coalesce(contacts.first_response_seconds_sum, 0)
        + coalesce(emails.first_response_seconds_sum, 0) as first_response_seconds_sum,
        coalesce(contacts.first_response_count, 0)
        + coalesce(emails.first_response_count, 0) as first_response_count,
        case when available.has_queue_wait then coalesce(contacts.queue_wait_seconds_sum, 0) end
            as queue_wait_seconds_sum,
        case when available.has_queue_wait then coalesce(contacts.queue_wait_count, 0) end as queue_wait_count,
        case when available.has_call_center then coalesce(contacts.talk_seconds_sum, 0) end as talk_seconds_sum,
        case when available.has_hold then coalesce(contacts.hold_seconds_sum, 0) end as hold_seconds_sum,
        case when available.has_acw then coalesce(contacts.acw_seconds_sum, 0) end as acw_seconds_sum,
        case when available.has_call_center then coalesce(contacts.handle_seconds_sum, 0) end as handle_seconds_sum,
        case when available.has_call_center then coalesce(contacts.handle_count, 0) end as handle_count,
        case when available.has_call_center then coalesce(contacts.fcr_resolved_count, 0) end as fcr_resolved_count,
        case when available.has_call_center then coalesce(contacts.fcr_eligible_count, 0) end as fcr_eligible_count,
        case when available.has_crm then coalesce(tickets.tickets_due_count, 0) end as tickets_due_count,
        case when available.has_crm then coalesce(tickets.tickets_on_time_count, 0) end as tickets_on_time_count,
        case when available.has_crm then coalesce(complaints.complaint_count, 0) end as complaint_count,
        case when available.has_qa then coalesce(qa.qa_score_sum, 0) end as qa_score_sum,
        case when available.has_qa then coalesce(qa.qa_inspection_count, 0) end as qa_inspection_count,
        case when available.has_qa then coalesce(qa.qa_severe_defect_count, 0) end as qa_severe_defect_count,
        case when available.has_survey then coalesce(surveys.csat_score_sum, 0) end as csat_score_sum,
        case when available.has_survey then coalesce(surveys.csat_response_count, 0) end as csat_response_count,
        case when available.has_survey then coalesce(surveys.csat_satisfied_count, 0) end as csat_satisfied_count,
        case when available.has_survey then coalesce(surveys.nps_promoter_count, 0) end as nps_promoter_count,
        case when available.has_survey then coalesce(surveys.nps_detractor_count, 0) end as nps_detractor_count,
        case when available.has_survey then coalesce(surveys.nps_response_count, 0) end as nps_response_count,
        agent_days.business_date,
        date_trunc('month', agent_days.business_date)::date as month_start
    from agent_days
    cross join available
    left join agents on agent_days.agent_id = agents.agent_id
    left join contacts
        on agent_days.agent_id = contacts.agent_id and agent_days.business_date = contacts.business_date
    left join emails
        on agent_days.agent_id = emails.agent_id and agent_days.business_date = emails.business_date
    left join tickets
        on agent_days.agent_id = tickets.agent_id and agent_days.business_date = tickets.business_date
    left join complaints
        on agent_days.agent_id = complaints.agent_id and agent_days.business_date = complaints.business_date
    left join surveys
        on agent_days.agent_id = surveys.agent_id and agent_days.business_date = surveys.business_date
    left join qa
        on agent_days.agent_id = qa.agent_id and agent_days.business_date = qa.business_date
)

select * from final

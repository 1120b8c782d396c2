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

final as (
    select
        agent_days.agent_id,
        agents.team_id,
        coalesce(contacts.phone_contacts_handled, 0) as phone_contacts_handled,
        coalesce(contacts.chat_contacts_handled, 0) as chat_contacts_handled,
        coalesce(emails.email_contacts_handled, 0) as email_contacts_handled,
        coalesce(contacts.phone_contacts_handled, 0)
        + coalesce(contacts.chat_contacts_handled, 0)
        + coalesce(emails.email_contacts_handled, 0) as contacts_handled,
        coalesce(contacts.first_response_seconds_sum, 0)
        + coalesce(emails.first_response_seconds_sum, 0) as first_response_seconds_sum,
        coalesce(contacts.first_response_count, 0)
        + coalesce(emails.first_response_count, 0) as first_response_count,
        coalesce(contacts.handle_seconds_sum, 0) as handle_seconds_sum,
        coalesce(contacts.handle_count, 0) as handle_count,
        coalesce(contacts.fcr_resolved_count, 0) as fcr_resolved_count,
        coalesce(contacts.fcr_eligible_count, 0) as fcr_eligible_count,
        coalesce(tickets.tickets_due_count, 0) as tickets_due_count,
        coalesce(tickets.tickets_on_time_count, 0) as tickets_on_time_count,
        coalesce(complaints.complaint_count, 0) as complaint_count,
        coalesce(qa.qa_score_sum, 0) as qa_score_sum,
        coalesce(qa.qa_inspection_count, 0) as qa_inspection_count,
        coalesce(qa.qa_severe_defect_count, 0) as qa_severe_defect_count,
        coalesce(surveys.csat_score_sum, 0) as csat_score_sum,
        coalesce(surveys.csat_response_count, 0) as csat_response_count,
        coalesce(surveys.csat_satisfied_count, 0) as csat_satisfied_count,
        coalesce(surveys.nps_promoter_count, 0) as nps_promoter_count,
        coalesce(surveys.nps_detractor_count, 0) as nps_detractor_count,
        coalesce(surveys.nps_response_count, 0) as nps_response_count,
        agent_days.business_date,
        date_trunc('month', agent_days.business_date)::date as month_start
    from agent_days
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

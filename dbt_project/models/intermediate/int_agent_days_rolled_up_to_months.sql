-- One row per agent per calendar month: the sums of the agent-day numerators and denominators.
with

agent_days as (
    select * from {{ ref('fct_agent_days') }}
),

final as (
    select
        agent_id,
        month_start,
        count(*) as active_days,
        sum(contacts_handled) as contacts_handled,
        sum(first_response_seconds_sum) as first_response_seconds_sum,
        sum(first_response_count) as first_response_count,
        sum(queue_wait_seconds_sum) as queue_wait_seconds_sum,
        sum(queue_wait_count) as queue_wait_count,
        sum(talk_seconds_sum) as talk_seconds_sum,
        sum(hold_seconds_sum) as hold_seconds_sum,
        sum(acw_seconds_sum) as acw_seconds_sum,
        sum(handle_seconds_sum) as handle_seconds_sum,
        sum(handle_count) as handle_count,
        sum(fcr_resolved_count) as fcr_resolved_count,
        sum(fcr_eligible_count) as fcr_eligible_count,
        sum(tickets_due_count) as tickets_due_count,
        sum(tickets_on_time_count) as tickets_on_time_count,
        sum(complaint_count) as complaint_count,
        sum(qa_score_sum) as qa_score_sum,
        sum(qa_inspection_count) as qa_inspection_count,
        sum(qa_severe_defect_count) as qa_severe_defect_count,
        sum(csat_score_sum) as csat_score_sum,
        sum(csat_response_count) as csat_response_count,
        sum(csat_satisfied_count) as csat_satisfied_count,
        sum(nps_promoter_count) as nps_promoter_count,
        sum(nps_detractor_count) as nps_detractor_count,
        sum(nps_response_count) as nps_response_count
    from agent_days
    group by agent_id, month_start
)

select * from final

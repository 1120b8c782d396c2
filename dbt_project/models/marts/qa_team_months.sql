-- One row per team per month of inspected work (the team the agent belonged to on the day
-- of the work): the monthly QA trend the QA lead reports. Averages are ratios of sums; the
-- change is against the team's previous month with inspections.
with

inspections as (
    select * from {{ ref('int_qa_inspections_scored') }}
),

agents as (
    select * from {{ ref('agents') }}
),

monthly as (
    select
        agents.team_id,
        date_trunc('month', inspections.business_date)::date as month_start,
        count(*) as records_inspected,
        count(distinct inspections.agent_id) as agents_inspected,
        sum(inspections.qa_score) as qa_score_sum,
        count(*) filter (where inspections.is_accurate) as accurate_count,
        sum(inspections.compliance_score) as compliance_score_sum,
        sum(inspections.minor_defect_count) as minor_defect_count,
        sum(inspections.general_defect_count) as general_defect_count,
        sum(inspections.severe_defect_count) as severe_defect_count
    from inspections
    left join agents
        on
            inspections.agent_id = agents.agent_id
            and inspections.business_date >= agents.valid_from
            and (agents.valid_to is null or inspections.business_date < agents.valid_to)
    group by 1, 2
),

final as (
    select
        team_id,
        records_inspected,
        agents_inspected,
        round(qa_score_sum / records_inspected, 2) as qa_score_avg,
        round(accurate_count::numeric / records_inspected, 4) as information_accuracy,
        round(compliance_score_sum / records_inspected, 2) as compliance_avg,
        minor_defect_count,
        general_defect_count,
        severe_defect_count,
        round(
            qa_score_sum / records_inspected
            - lag(qa_score_sum / records_inspected) over (partition by team_id order by month_start),
            2
        ) as qa_score_change,
        month_start
    from monthly
)

select * from final

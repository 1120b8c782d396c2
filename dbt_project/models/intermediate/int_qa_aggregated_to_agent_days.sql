-- One row per agent per local day of inspected work.
with

inspections as (
    select * from {{ ref('int_qa_inspections_scored') }}
),

final as (
    select
        agent_id,
        business_date,
        sum(qa_score) as qa_score_sum,
        count(*) as qa_inspection_count,
        sum(severe_defect_count) as qa_severe_defect_count
    from inspections
    group by agent_id, business_date
)

select * from final

-- One row per QA inspection with its score: 100 minus the sum of its deductions, floored at 0.
with

inspections as (
    select * from {{ ref('stg_qa__inspections') }}
),

deductions as (
    select * from {{ ref('stg_qa__deductions') }}
),

deductions_per_inspection as (
    select
        inspection_id,
        sum(points) as deduction_points,
        count(*) filter (where severity = 'severe') as severe_defect_count
    from deductions
    group by inspection_id
),

final as (
    select
        inspections.inspection_id,
        inspections.agent_id,
        inspections.record_type,
        inspections.business_date,
        coalesce(deductions_per_inspection.deduction_points, 0) as deduction_points,
        coalesce(deductions_per_inspection.severe_defect_count, 0) as severe_defect_count,
        greatest(0, 100 - coalesce(deductions_per_inspection.deduction_points, 0)) as qa_score,
        inspections.inspected_at
    from inspections
    left join deductions_per_inspection
        on inspections.inspection_id = deductions_per_inspection.inspection_id
)

select * from final

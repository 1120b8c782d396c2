-- One row per QA inspection with its scores: the QA score is 100 minus the sum of all its
-- deductions; compliance is 100 minus the deductions on work-standards items; the record is
-- accurate when no deduction is on an accuracy item (seed qa_dimensions). Scores floor at 0.
-- Severity follows the points (minor 1-3, general 4-6, severe 7-10), checked in staging.
-- Incremental: the inspections of the days of the rebuild window (macros/rebuild_window.sql)
-- are scored again (a changed deduction is landed with its inspection).
{{ config(**rebuilt_by_day('qa', indexed=true)) }}
with

inspections as (
    select * from {{ ref('stg_qa__inspections') }}
    where
        is_withheld is not true  -- its newest version was quarantined
        {%- if is_incremental() %}
            and business_date >= {{ days_rebuilt_from('qa') }}
        {%- endif %}
),

deductions as (
    select * from {{ ref('stg_qa__deductions') }}
),

dimensions as (
    select * from {{ ref('qa_dimensions') }}
),

deductions_per_inspection as (
    select
        deductions.inspection_id,
        sum(deductions.points) as deduction_points,
        coalesce(sum(deductions.points) filter (where dimensions.is_compliance_item), 0)
            as compliance_deduction_points,
        count(*) filter (where dimensions.is_accuracy_item) as accuracy_defect_count,
        count(*) filter (where deductions.severity = 'minor') as minor_defect_count,
        count(*) filter (where deductions.severity = 'general') as general_defect_count,
        count(*) filter (where deductions.severity = 'severe') as severe_defect_count
    from deductions
    left join dimensions on deductions.dimension = dimensions.dimension
    {%- if is_incremental() %}
        where deductions.inspection_id in (select inspections.inspection_id from inspections)
    {%- endif %}
    group by deductions.inspection_id
),

final as (
    select
        inspections.inspection_id,
        inspections.agent_id,
        inspections.record_type,
        inspections.business_date,
        coalesce(deductions_per_inspection.deduction_points, 0) as deduction_points,
        coalesce(deductions_per_inspection.minor_defect_count, 0) as minor_defect_count,
        coalesce(deductions_per_inspection.general_defect_count, 0) as general_defect_count,
        coalesce(deductions_per_inspection.severe_defect_count, 0) as severe_defect_count,
        greatest(0, 100 - coalesce(deductions_per_inspection.deduction_points, 0)) as qa_score,
        greatest(0, 100 - coalesce(deductions_per_inspection.compliance_deduction_points, 0))
            as compliance_score,
        coalesce(deductions_per_inspection.accuracy_defect_count, 0) = 0 as is_accurate,
        inspections.inspected_at
    from inspections
    left join deductions_per_inspection
        on inspections.inspection_id = deductions_per_inspection.inspection_id
)

select * from final

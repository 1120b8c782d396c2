-- One row per agent per local day of inspected work (not the day of the inspection).
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('qa')) }}
with

inspections as (
    select * from {{ ref('int_qa_inspections_scored') }}
    {%- if is_incremental() %}
        where business_date >= {{ days_rebuilt_from('qa') }}
    {%- endif %}
),

final as (
    select
        agent_id,
        business_date,
        sum(qa_score) as qa_score_sum,
        count(*) as qa_inspection_count,
        count(*) filter (where is_accurate) as qa_accurate_count,
        sum(compliance_score) as compliance_score_sum,
        sum(severe_defect_count) as qa_severe_defect_count
    from inspections
    group by agent_id, business_date
)

select * from final

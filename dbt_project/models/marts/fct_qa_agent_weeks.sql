-- One row per agent per week of QA feedback (ISO week, Monday start, of the inspection:
-- feedback is given on what was inspected that week): records inspected, the QA score,
-- deduction points by dimension and defects by severity, and the rectification items still
-- open at the end of the week (and how many of them are overdue).
with

inspections as (
    select * from {{ ref('int_qa_inspections_scored') }}
),

deductions as (
    select * from {{ ref('stg_qa__deductions') }}
),

rectifications as (
    -- A rectification item is issued with its inspection.
    select
        items.rectification_id,
        items.agent_id,
        items.due_date,
        items.closed_at,
        scored.inspected_at as issued_at
    from {{ ref('stg_qa__rectifications') }} as items
    inner join {{ ref('int_qa_inspections_scored') }} as scored on items.inspection_id = scored.inspection_id
),

inspected as (
    select
        inspection_id,
        agent_id,
        qa_score,
        minor_defect_count,
        general_defect_count,
        severe_defect_count,
        date_trunc('week', {{ local_date('inspected_at') }})::date as week_start
    from inspections
),

points_by_dimension as (
    select
        inspected.agent_id,
        inspected.week_start,
        {%- for dimension in ['service_attitude', 'professional_knowledge', 'communication',
                              'problem_solving', 'work_standards'] %}
            coalesce(sum(deductions.points) filter (where deductions.dimension = '{{ dimension }}'), 0)
                as {{ dimension }}_points{% if not loop.last %},{% endif %}
        {%- endfor %}
    from inspected
    left join deductions on inspected.inspection_id = deductions.inspection_id
    group by inspected.agent_id, inspected.week_start
),

weekly as (
    select
        agent_id,
        week_start,
        count(*) as records_inspected,
        sum(qa_score) as qa_score_sum,
        round(avg(qa_score), 2) as qa_score_avg,
        sum(minor_defect_count) as minor_defect_count,
        sum(general_defect_count) as general_defect_count,
        sum(severe_defect_count) as severe_defect_count
    from inspected
    group by agent_id, week_start
),

open_items as (
    select
        weekly.agent_id,
        weekly.week_start,
        count(rectifications.rectification_id) as open_rectification_items,
        count(rectifications.rectification_id) filter (
            where rectifications.due_date < weekly.week_start + 7
        ) as overdue_rectification_items
    from weekly
    left join rectifications
        on
            weekly.agent_id = rectifications.agent_id
            and {{ local_date('rectifications.issued_at') }} < weekly.week_start + 7
            and (
                rectifications.closed_at is null
                or {{ local_date('rectifications.closed_at') }} >= weekly.week_start + 7
            )
    group by weekly.agent_id, weekly.week_start
),

final as (
    select
        weekly.agent_id,
        weekly.records_inspected,
        weekly.qa_score_sum,
        weekly.qa_score_avg,
        weekly.minor_defect_count,
        weekly.general_defect_count,
        weekly.severe_defect_count,
        {%- for dimension in ['service_attitude', 'professional_knowledge', 'communication',
                              'problem_solving', 'work_standards'] %}
            points_by_dimension.{{ dimension }}_points,
        {%- endfor %}
        open_items.open_rectification_items,
        open_items.overdue_rectification_items,
        weekly.week_start
    from weekly
    inner join points_by_dimension
        on weekly.agent_id = points_by_dimension.agent_id and weekly.week_start = points_by_dimension.week_start
    inner join open_items
        on weekly.agent_id = open_items.agent_id and weekly.week_start = open_items.week_start
)

select * from final

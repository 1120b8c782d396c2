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
    where items.is_withheld is not true  -- its newest version was quarantined
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

items as (
    select
        agent_id,
        {{ local_date('issued_at') }} as issued_on,
        due_date,
        {{ local_date('closed_at') }} as closed_on
    from rectifications
    where issued_at is not null
),

-- An item is open at the end of week W when it was issued before W + 7 and not closed
-- before it, and overdue when it was also due before it. Each count becomes a step up on
-- the day it starts to hold and a step down on the day it stops (closed before it held is
-- never), so a week's counts are the running sums of the steps of its weeks and before:
-- linear in items and weeks, where joining every week to every item of the agent grew with
-- the square of the history.
steps as (
    select
        agent_id,
        issued_on as step_on,
        1 as open_step,
        0 as overdue_step
    from items
    union all
    select
        agent_id,
        greatest(issued_on, closed_on) as step_on,
        -1 as open_step,
        0 as overdue_step
    from items
    where closed_on is not null
    union all
    select
        agent_id,
        greatest(issued_on, due_date) as step_on,
        0 as open_step,
        1 as overdue_step
    from items
    where due_date is not null
    union all
    select
        agent_id,
        greatest(issued_on, due_date, closed_on) as step_on,
        0 as open_step,
        -1 as overdue_step
    from items
    where due_date is not null and closed_on is not null
),

steps_by_week as (
    -- A step before W + 7 (W a Monday) is a step of W's week or an earlier one.
    select
        agent_id,
        date_trunc('week', step_on)::date as week_start,
        sum(open_step) as open_steps,
        sum(overdue_step) as overdue_steps
    from steps
    group by agent_id, date_trunc('week', step_on)::date
),

timeline as (
    -- A week's own steps sort before its feedback row.
    select
        agent_id,
        week_start,
        open_steps,
        overdue_steps,
        false as is_feedback
    from steps_by_week
    union all
    select
        agent_id,
        week_start,
        0 as open_steps,
        0 as overdue_steps,
        true as is_feedback
    from weekly
),

open_items as (
    select
        agent_id,
        week_start,
        open_rectification_items,
        overdue_rectification_items
    from (
        select
            agent_id,
            week_start,
            is_feedback,
            -- Inspections without an inspection time have no week: nothing is open in it.
            case when week_start is not null then sum(open_steps) over running else 0 end::bigint
                as open_rectification_items,
            case when week_start is not null then sum(overdue_steps) over running else 0 end::bigint
                as overdue_rectification_items
        from timeline
        window running as (partition by agent_id order by week_start, is_feedback rows unbounded preceding)
    ) as counted
    where is_feedback
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

-- One row per agent per team per month: the agent-day inputs summed by the team of each
-- day (an agent who moved mid-month has a row for each team), joined with the monthly
-- supervisor inputs under the team of the supervisor's workbook. Every roll-up (agent,
-- team, center; month, quarter, year) sums these rows.
{%- set day_inputs = agent_day_input_columns() %}
with

agent_days as (
    select * from {{ ref('agent_days') }}
),

supervisor as (
    select * from {{ ref('stg_supervisor__inputs') }}
),

available as (
    select * from {{ ref('int_kpi_inputs_available') }}
),

days_by_team as (
    select
        agent_id,
        team_id,
        month_start,
        count(*) as active_days,
        count(*) filter (where is_working_day) as working_days,
        max(business_date) filter (where is_working_day) as last_working_date,
        {%- for column in day_inputs %}
            sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from agent_days
    group by agent_id, team_id, month_start
),

supervisor_by_team as (
    select
        agent_id,
        team_id,
        month_start,
        sum(teamwork_rating) as teamwork_rating_sum,
        count(teamwork_rating) as teamwork_rating_count,
        sum(training_sessions_scheduled) as training_sessions_scheduled,
        sum(training_sessions_attended) as training_sessions_attended,
        sum(exam_score) as exam_score_sum,
        count(exam_score) as exam_count,
        sum(discipline_points) as discipline_points,
        count(*) as supervisor_input_count,
        sum(plan_items_due) as plan_items_due,
        sum(plan_items_closed_on_time) as plan_items_closed_on_time
    from supervisor
    group by agent_id, team_id, month_start
),

joined as (
    select
        coalesce(days_by_team.agent_id, supervisor_by_team.agent_id) as agent_id,
        coalesce(days_by_team.team_id, supervisor_by_team.team_id) as team_id,
        coalesce(days_by_team.month_start, supervisor_by_team.month_start) as month_start,
        coalesce(days_by_team.active_days, 0) as active_days,
        coalesce(days_by_team.working_days, 0) as working_days,
        days_by_team.last_working_date,
        {%- for column in day_inputs %}
            days_by_team.{{ column }},
        {%- endfor %}
        {%- for column in supervisor_input_columns() %}
            case when available.has_supervisor then coalesce(supervisor_by_team.{{ column }}, 0) end
                as {{ column }},
        {%- endfor %}
        available.has_supervisor
    from days_by_team
    full outer join supervisor_by_team
        on
            days_by_team.agent_id = supervisor_by_team.agent_id
            and days_by_team.month_start = supervisor_by_team.month_start
            and days_by_team.team_id is not distinct from supervisor_by_team.team_id
    cross join available
),

final as (
    select
        *,
        -- Improvement items: QA rectifications and the supervisor's plan items together.
        case
            when rectifications_due_count is not null or plan_items_due is not null
                then coalesce(rectifications_on_time_count, 0) + coalesce(plan_items_closed_on_time, 0)
        end as improvement_items_on_time_count,
        case
            when rectifications_due_count is not null or plan_items_due is not null
                then coalesce(rectifications_due_count, 0) + coalesce(plan_items_due, 0)
        end as improvement_items_due_count
    from joined
)

select * from final

-- One row per agent per month: the agent's inputs summed over all teams, the days worked,
-- and the team the agent is scored and ranked in: the team of the last working day of the
-- month (the supervisor workbook's team when the agent did not work in the month).
with

inputs as (
    select * from {{ ref('int_kpi_inputs_by_agent_team_month') }}
),

scored_team as (
    select distinct on (agent_id, month_start)
        agent_id,
        month_start,
        team_id
    from inputs
    order by
        agent_id asc,
        month_start asc,
        last_working_date desc nulls last,
        supervisor_input_count desc nulls last,
        team_id asc
),

summed as (
    select
        agent_id,
        month_start,
        count(distinct team_id) as teams_in_month,
        sum(active_days) as active_days,
        sum(working_days) as working_days,
        {%- for column in kpi_input_columns() %}
            sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from inputs
    group by agent_id, month_start
),

final as (
    select
        summed.*,
        scored_team.team_id
    from summed
    inner join scored_team
        on summed.agent_id = scored_team.agent_id and summed.month_start = scored_team.month_start
)

select * from final

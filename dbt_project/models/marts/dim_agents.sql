-- One row per agent, with the team the roster gives today. (Team history per day is the
-- KPI-catalog issue's SCD; the seam is here.)
with

agents as (
    select * from {{ ref('stg_crm__agents') }}
),

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

final as (
    select
        agents.agent_id,
        agents.team_id,
        agents.agent_name,
        teams.team_name,
        teams.business_line,
        teams.supervisor_name,
        teams.lead_name,
        agents.primary_channel,
        agents.hired_on,
        agents.left_on
    from agents
    left join teams on agents.team_id = teams.team_id
)

select * from final

-- One row per agent: everyone on the CRM roster (with the team the roster gives today),
-- plus anyone who did work in a source without being on the roster (no team). Where no
-- roster source is configured (a call-center-only install) the second kind is everyone.
-- (Team history per day is the KPI-catalog issue's SCD; the seam is here.)
with

agents as (
    select * from {{ ref('stg_crm__agents') }}
),

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

contacts as (
    select * from {{ ref('stg_call_center__contacts') }}
),

roster as (
    select
        agents.agent_id,
        agents.team_id,
        agents.agent_name,
        teams.team_name,
        teams.business_line,
        teams.supervisor_name,
        teams.lead_name,
        agents.primary_channel,
        true as is_in_roster,
        agents.hired_on,
        agents.left_on
    from agents
    left join teams on agents.team_id = teams.team_id
),

seen_only_at_work as (
    select
        contacts.agent_id,
        null as team_id,
        contacts.agent_id as agent_name,
        null as team_name,
        null as business_line,
        null as supervisor_name,
        null as lead_name,
        mode() within group (order by contacts.channel) as primary_channel,
        false as is_in_roster,
        null::date as hired_on,
        null::date as left_on
    from contacts
    left join roster on contacts.agent_id = roster.agent_id
    where contacts.agent_id is not null and roster.agent_id is null
    group by contacts.agent_id
),

final as (
    select * from roster
    union all
    select * from seen_only_at_work
)

select * from final

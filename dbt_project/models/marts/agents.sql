-- One row per agent per period in one team (slowly changing dimension, type 2): an agent
-- who moves team on the 12th has a row for the old team valid until the 11th and one for
-- the new team from the 12th. valid_from is inclusive, valid_to exclusive (NULL while
-- current). The history comes from the CRM's team assignments; an agent on the roster
-- without any assignment gets one row for the roster's team. Anyone who did work without
-- being on the roster gets one row without a team (a call-center-only install, or a CRM
-- that delivers tickets without a roster: everyone).
with recursive

agents as (
    select * from {{ ref('stg_crm__agents') }}
),

teams as (
    select * from {{ ref('stg_crm__teams') }}
),

assignments as (
    select * from {{ ref('stg_crm__team_assignments') }}
),

team_periods as (
    select
        agent_id,
        team_id,
        valid_from,
        valid_to + 1 as valid_to
    from assignments
    union all
    select
        agents.agent_id,
        agents.team_id,
        coalesce(agents.hired_on, date '1900-01-01') as valid_from,
        null::date as valid_to
    from agents
    where not exists (
        select from assignments
        where assignments.agent_id = agents.agent_id
    )
),

roster as (
    select
        team_periods.agent_id,
        team_periods.team_id,
        agents.agent_name,
        teams.team_name,
        teams.business_line,
        teams.supervisor_name,
        teams.lead_name,
        agents.primary_channel,
        true as is_in_roster,
        agents.hired_on,
        agents.left_on,
        team_periods.valid_from,
        team_periods.valid_to
    from team_periods
    inner join agents on team_periods.agent_id = agents.agent_id
    left join teams on team_periods.team_id = teams.team_id
),

-- The agents the contacts name, one index probe each (a loose index scan): contacts are
-- read only for the agents missing from the roster, not for the whole history.
named_at_work (agent_id) as (
    select min(contacts.agent_id) from {{ ref('stg_call_center__contacts') }} as contacts
    union all
    select (
        select min(contacts.agent_id) from {{ ref('stg_call_center__contacts') }} as contacts
        where contacts.agent_id > named_at_work.agent_id
    )
    from named_at_work
    where named_at_work.agent_id is not null
),

-- The agents the other sources name (a CRM's tickets without a roster, surveys, QA):
-- their tables are far smaller than the contacts.
named_elsewhere (agent_id) as (
    select assignee_agent_id from {{ ref('stg_crm__tickets') }}
    union
    select complained_agent_id from {{ ref('stg_crm__tickets') }}
    union
    select responsible_agent_id from {{ ref('stg_crm__ticket_events') }}
    union
    select agent_id from {{ ref('stg_survey__responses') }}
    union
    select agent_id from {{ ref('stg_qa__inspections') }}
    union
    select agent_id from {{ ref('stg_qa__rectifications') }}
),

unrostered as (
    select named.agent_id
    from (
        select named_at_work.agent_id from named_at_work
        union
        select named_elsewhere.agent_id from named_elsewhere
    ) as named
    where
        named.agent_id is not null
        and not exists (
            select from agents
            where agents.agent_id = named.agent_id
        )
),

seen_only_at_work as (
    select
        unrostered.agent_id,
        null as team_id,
        unrostered.agent_id as agent_name,
        null as team_name,
        null as business_line,
        null as supervisor_name,
        null as lead_name,
        (
            select mode() within group (order by contacts.channel)
            from {{ ref('stg_call_center__contacts') }} as contacts
            where contacts.agent_id = unrostered.agent_id
        ) as primary_channel,
        false as is_in_roster,
        null::date as hired_on,
        null::date as left_on,
        date '1900-01-01' as valid_from,
        null::date as valid_to
    from unrostered
),

unioned as (
    select * from roster
    union all
    select * from seen_only_at_work
),

final as (
    select
        agent_id || '@' || valid_from as agent_version_key,
        agent_id,
        team_id,
        agent_name,
        team_name,
        business_line,
        supervisor_name,
        lead_name,
        primary_channel,
        is_in_roster,
        hired_on,
        left_on,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from unioned
)

select * from final

-- Where a roster is loaded, every agent who did work is on it: an unknown agent id in a
-- delivery is a broken source, not a new employee. (A call-center-only install has no
-- roster; then every agent is known from the work alone.)
with

agents as (
    select * from {{ ref('dim_agents') }}
)

select agent_id
from agents
where
    not is_in_roster
    and exists (select 1 from agents as rostered where rostered.is_in_roster)

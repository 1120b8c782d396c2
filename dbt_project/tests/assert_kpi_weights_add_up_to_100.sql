-- Every scorecard's weights add up to 100: for each team scope ('*' = teams without
-- overrides), each channel and each period of rules, the rules in force for all KPIs must
-- sum to exactly 100. ('all' alone is only the fallback for an agent whose channel has no
-- rules; it is not a scorecard of its own.)
with

rules as (
    select * from {{ ref('int_kpi_rules_in_force') }}
)

select
    team_id,
    channel,
    valid_from,
    sum(weight) as total_weight
from rules
where channel <> 'all'
group by team_id, channel, valid_from
having sum(weight) <> 100

-- One row per agent per month per KPI of the catalog: value, sample, and, for the KPIs with
-- a scoring rule in force for the agent's team and channel, weight, target, attainment and
-- score. A KPI whose sample is below its minimum is shown but not scored; its weight is
-- shared pro rata among the agent's scored KPIs (effective_weight).
with

months as (
    select * from {{ ref('int_agent_months') }}
),

agents as (
    -- The channel is the agent's, not the team period's: any version carries it.
    select distinct on (agent_id)
        agent_id,
        primary_channel
    from {{ ref('agents') }}
    order by agent_id asc, valid_from desc
),

rules_in_force as (
    select * from {{ ref('int_kpi_rules_in_force') }}
),

kpi_values as (
    select
        months.agent_id,
        months.month_start,
        months.team_id,
        agents.primary_channel,
        kpi.kpi_code,
        kpi.numerator,
        kpi.denominator,
        kpi.kpi_value
    from months
    left join agents on months.agent_id = agents.agent_id
    {{ kpi_values_lateral('months') }}
),

team_scopes as (
    select distinct team_id from rules_in_force
),

channel_scopes as (
    select distinct channel from rules_in_force
),

scopes as (
    -- A team (channel) without rules of its own is scored by the all-teams ('*') rules
    -- (the 'all' channel rules).
    select
        kpi_values.*,
        coalesce(team_scopes.team_id, '*') as rule_team_id,
        coalesce(channel_scopes.channel, 'all') as rule_channel
    from kpi_values
    left join team_scopes on kpi_values.team_id = team_scopes.team_id
    left join channel_scopes on kpi_values.primary_channel = channel_scopes.channel
),

scored as (
    select
        scopes.agent_id,
        scopes.month_start,
        scopes.team_id,
        scopes.primary_channel,
        scopes.kpi_code,
        scopes.numerator,
        scopes.denominator,
        scopes.kpi_value,
        rules.weight,
        rules.direction,
        rules.target,
        rules.floor,
        rules.band_low,
        rules.band_high,
        rules.band_falloff,
        rules.cap,
        rules.min_sample,
        coalesce(
            rules.weight > 0 and scopes.kpi_value is not null and scopes.denominator >= rules.min_sample,
            false
        ) as is_scored,
        {{ attainment('rules.direction', 'scopes.kpi_value', 'rules.floor', 'rules.target',
                      'rules.band_low', 'rules.band_high', 'rules.band_falloff', 'rules.cap') }} as attainment
    from scopes
    -- A KPI with no rule in force for the month is shown, not scored.
    left join rules_in_force as rules
        on
            scopes.kpi_code = rules.kpi_code
            and scopes.rule_team_id = rules.team_id
            and scopes.rule_channel = rules.channel
            and scopes.month_start >= rules.valid_from
            and (rules.valid_to is null or scopes.month_start < rules.valid_to)
),

weighted as (
    select
        *,
        case
            when is_scored
                then
                    weight
                    * 100
                    / nullif(sum(weight) filter (where is_scored) over (partition by agent_id, month_start), 0)
        end as effective_weight
    from scored
),

final as (
    select
        agent_id,
        team_id,
        kpi_code,
        direction,
        numerator,
        denominator,
        kpi_value,
        weight,
        effective_weight,
        target,
        floor,
        band_low,
        band_high,
        band_falloff,
        cap,
        min_sample,
        case when is_scored then attainment end as attainment,
        case when is_scored then effective_weight * attainment end as score,
        is_scored,
        coalesce(weight > 0 and not is_scored, false) as is_weight_redistributed,
        month_start
    from weighted
)

select * from final

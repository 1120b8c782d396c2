-- One row per agent per month per scorecard KPI: value, sample, weight, target, attainment
-- and score. A KPI with a sample below its minimum is shown but not scored; its weight is
-- shared pro rata among the agent's scored KPIs (effective_weight).
with

months as (
    select * from {{ ref('int_agent_days_rolled_up_to_months') }}
),

agents as (
    select * from {{ ref('dim_agents') }}
),

rules_in_force as (
    select * from {{ ref('int_kpi_rules_in_force') }}
),

kpi_values as (
    select
        months.agent_id,
        months.month_start,
        agents.team_id,
        agents.primary_channel,
        kpi.kpi_code,
        kpi.numerator,
        kpi.denominator,
        kpi.numerator / nullif(kpi.denominator, 0) * kpi.scale as kpi_value
    from months
    left join agents on months.agent_id = agents.agent_id
    cross join lateral (
        values
        ('first_response_time', months.first_response_seconds_sum::numeric, months.first_response_count, 1),
        ('average_handle_time', months.handle_seconds_sum::numeric, months.handle_count, 1),
        ('first_contact_resolution', months.fcr_resolved_count::numeric, months.fcr_eligible_count, 1),
        ('ticket_on_time_rate', months.tickets_on_time_count::numeric, months.tickets_due_count, 1),
        ('qa_score', months.qa_score_sum::numeric, months.qa_inspection_count, 1),
        ('complaint_rate', months.complaint_count::numeric, months.contacts_handled, 1),
        ('csat', months.csat_score_sum::numeric, months.csat_response_count, 1),
        (
            'nps',
            (months.nps_promoter_count - months.nps_detractor_count)::numeric,
            months.nps_response_count,
            100
        )
    ) as kpi (kpi_code, numerator, denominator, scale)
),

channels_with_rules as (
    select distinct channel from rules_in_force
),

kpis_with_rule_channel as (
    -- An agent whose channel has no rules of its own is scored by the 'all' rules.
    select
        kpi_values.*,
        coalesce(channels_with_rules.channel, 'all') as rule_channel
    from kpi_values
    left join channels_with_rules on kpi_values.primary_channel = channels_with_rules.channel
),

scored as (
    select
        kpi_values.agent_id,
        kpi_values.month_start,
        kpi_values.team_id,
        kpi_values.primary_channel,
        kpi_values.kpi_code,
        kpi_values.numerator,
        kpi_values.denominator,
        kpi_values.kpi_value,
        rules.weight,
        rules.direction,
        rules.target,
        rules.floor,
        rules.band_low,
        rules.band_high,
        rules.cap,
        rules.min_sample,
        coalesce(kpi_values.kpi_value is not null and kpi_values.denominator >= rules.min_sample, false)
            as is_scored,
        {{ attainment('rules.direction', 'kpi_values.kpi_value', 'rules.floor', 'rules.target',
                      'rules.band_low', 'rules.band_high', 'rules.band_falloff', 'rules.cap') }} as attainment
    from kpis_with_rule_channel as kpi_values
    -- A KPI with no rule in force for the month is shown, not scored.
    left join rules_in_force as rules
        on
            kpi_values.kpi_code = rules.kpi_code
            and kpi_values.rule_channel = rules.channel
            and kpi_values.month_start >= rules.valid_from
            and (rules.valid_to is null or kpi_values.month_start < rules.valid_to)
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
        cap,
        min_sample,
        case when is_scored then attainment end as attainment,
        case when is_scored then effective_weight * attainment end as score,
        is_scored,
        month_start
    from weighted
)

select * from final

-- One row per KPI per period (month, quarter, year) per rollup_level (agent, team, center): the
-- summed numerator and denominator and their ratio. Teams are the team of each day (an
-- agent who moved mid-month counts for each team on its days). Every value is a ratio of
-- sums, never an average of ratios.
with

inputs as (
    select * from {{ ref('int_kpi_inputs_by_agent_team_month') }}
),

catalog as (
    select * from {{ ref('kpi_catalog') }}
),

by_period as (
    select
        inputs.*,
        periods.period_type,
        periods.period_start
    from inputs
    {{ periods_of('inputs.month_start', ['month', 'quarter', 'year']) }}
),

summed as (
    select
        period_type,
        period_start,
        case
            when grouping(agent_id) = 0 then 'agent'
            when grouping(team_id) = 0 then 'team'
            else 'center'
        end as rollup_level,
        agent_id,
        team_id,
        sum(working_days) as working_days,
        {%- for column in kpi_input_columns() %}
            sum({{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from by_period
    group by grouping sets (
        (period_type, period_start, agent_id),
        (period_type, period_start, team_id),
        (period_type, period_start)
    )
),

final as (
    select
        summed.period_type,
        summed.period_start,
        summed.rollup_level,
        summed.agent_id,
        summed.team_id,
        kpi.kpi_code,
        catalog.kpi_name_zh,
        kpi.numerator,
        kpi.denominator,
        kpi.kpi_value,
        summed.working_days
    from summed
    {{ kpi_values_lateral('summed') }}
    left join catalog on kpi.kpi_code = catalog.kpi_code
)

select * from final

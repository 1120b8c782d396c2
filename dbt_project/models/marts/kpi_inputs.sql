-- The additive inputs of every KPI, one row per agent per team per day: the agent-day
-- inputs on their business day (team of that day), and the supervisors' monthly inputs on
-- the first day of their month (team of the workbook). Summing these rows over any agents,
-- teams and days gives every KPI's numerator and denominator, as kpi_rollups does: the
-- semantic layer's metrics (_marts__semantic.yml) and BI datasets read this table. Every
-- input is numeric: the rows of both kinds share each column.
{%- set day_inputs = agent_day_input_columns() %}
{%- set monthly_inputs = supervisor_input_columns() %}
with

agent_days as (
    select * from {{ ref('agent_days') }}
),

months as (
    select * from {{ ref('int_kpi_inputs_by_agent_team_month') }}
),

day_rows as (
    select
        agent_id,
        team_id,
        business_date,
        'agent_day' as input_grain,
        {%- for column in day_inputs %}
            {{ column }}::numeric as {{ column }},
        {%- endfor %}
        {%- for column in monthly_inputs %}
            null::numeric as {{ column }},
        {%- endfor %}
        rectifications_on_time_count::numeric as improvement_items_on_time_count,
        rectifications_due_count::numeric as improvement_items_due_count
    from agent_days
),

month_rows as (
    select
        agent_id,
        team_id,
        month_start as business_date,
        'agent_month' as input_grain,
        {%- for column in day_inputs %}
            null::numeric as {{ column }},
        {%- endfor %}
        {%- for column in monthly_inputs %}
            {{ column }}::numeric as {{ column }},
        {%- endfor %}
        plan_items_closed_on_time::numeric as improvement_items_on_time_count,
        plan_items_due::numeric as improvement_items_due_count
    from months
    where has_supervisor
),

final as (
    select * from day_rows
    union all
    select * from month_rows
)

select * from final

-- One row per agent per local business day with any KPI input (the columns are assembled in
-- int_agent_days_assembled). Incremental: a run rewrites only the agent-days whose content
-- changed (new days, and earlier days touched by late surveys, QA inspections or ticket
-- updates), so every other agent-day keeps the run that built it (built_by_run_id).
-- An agent-day that no longer has any input (a contact re-attributed) is deleted. Both
-- read the days int_agent_days_assembled rebuilt (int_agent_days_rebuild_window) only, by
-- the indexes on the day and on the key (created with the table).
-- depends_on: {{ ref('int_agent_days_rebuild_window') }}
{{ config(
    materialized='incremental',
    unique_key=['agent_id', 'business_date'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['agent_id', 'business_date'], 'unique': true},
        {'columns': ['business_date']},
        {'columns': ['team_id', 'business_date']},
        {'columns': ['month_start']},
    ],
    post_hook=[
        "delete from {{ this }} as built
        where built.business_date >= {{ days_rebuilt_from('agent_days') }} and not exists (
            select from {{ ref('int_agent_days_assembled') }} as assembled
            where assembled.agent_id = built.agent_id
                and assembled.business_date = built.business_date)",
        "update {{ ref('int_agent_days_rebuild_window') }} set is_applied = true",
    ],
) }}

with

assembled as (
    select * from {{ ref('int_agent_days_assembled') }}
),

final as (
    select
        assembled.*,
        '{{ build_parameter("run_id", "manual") }}'::text as built_by_run_id
    from assembled
    {%- if is_incremental() %}
        where not exists (
            select from {{ this }} as built
            where
                built.agent_id = assembled.agent_id
                and built.business_date = assembled.business_date
                and built.row_hash = assembled.row_hash
        )
    {%- endif %}
)

-- Every column of int_agent_days_assembled, and the run that built the row.
select * from final  -- noqa: AM04

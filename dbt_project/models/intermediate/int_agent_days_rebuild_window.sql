-- One row: the first business day whose agent-days this build computes again
-- (int_agent_days_assembled and agent_days rebuild from it): the earliest day a daily
-- input's rebuild window reaches (macros/rebuild_window.sql), earlier when the roster's
-- team periods changed (from the first day an agent's team of the day differs), and every
-- day when the inputs available changed (a source delivered for the first
-- time, a field a vendor starts to export). The roster's team periods and the inputs
-- available it saw are kept here for the next build to compare with; a window that no
-- build applied (it failed before agent_days) is carried into the next one.
-- Incremental so that a build reads the row the last one left (a full refresh starts over):
-- the new row replaces it by its key.
{{ config(
    materialized='incremental',
    unique_key='window_name',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
with

agents as (
    select * from {{ ref('agents') }}
),

available as (
    select * from {{ ref('int_kpi_inputs_available') }}
),

team_periods as (
    select
        agent_id,
        team_id,
        valid_from,
        valid_to
    from agents
),

{%- if is_incremental() %}

    seen_before as (
        select * from {{ this }}
    ),

    team_periods_before as (
        select periods.*
        from seen_before
        cross join lateral jsonb_to_recordset(seen_before.team_periods) as periods (
            agent_id text, team_id text, valid_from date, valid_to date
        )
    ),

    changed_periods as (
        (
            select * from team_periods
            except
            select * from team_periods_before
        )
        union all
        (
            select * from team_periods_before
            except
            select * from team_periods
        )
    ),

    -- An agent's team of the day is constant between the first and last days of its
    -- periods, old and new: the first day it differs is one of them.
    boundaries as (
        select distinct
            changed_periods.agent_id,
            edges.boundary_day
        from changed_periods
        cross join
            lateral (
                values (changed_periods.valid_from), (changed_periods.valid_to)
            ) as edges (boundary_day)
        where edges.boundary_day is not null
    ),

    team_changed_on as (
        select min(boundaries.boundary_day) as first_day
        from boundaries
        where (
            select min(now_.team_id) from team_periods as now_
            where
                now_.agent_id = boundaries.agent_id
                and boundaries.boundary_day >= now_.valid_from
                and (now_.valid_to is null or boundaries.boundary_day < now_.valid_to)
        ) is distinct from (
            select min(then_.team_id) from team_periods_before as then_
            where
                then_.agent_id = boundaries.agent_id
                and boundaries.boundary_day >= then_.valid_from
                and (then_.valid_to is null or boundaries.boundary_day < then_.valid_to)
        )
    ),
{%- endif %}

final as (
    select
        'agent_days' as window_name,
        {%- if not is_incremental() %}
            date '-infinity' as rebuilt_from,
        {%- else %}
            least(
                {{ days_rebuilt_from('contacts') }},
                {{ days_rebuilt_from('tickets') }},
                {{ days_rebuilt_from('surveys') }},
                {{ days_rebuilt_from('qa') }},
                (select team_changed_on.first_day from team_changed_on),
                -- A window no agent-days build applied yet (the build failed): still due.
                case
                    when
                        not (select seen_before.is_applied from seen_before)
                        then (select seen_before.rebuilt_from from seen_before)
                end,
                case
                    when
                        (select seen_before.inputs_available from seen_before)
                        is distinct from (select to_jsonb(available) from available)
                        then date '-infinity'
                end
            ) as rebuilt_from,
        {%- endif %}
        (
            select
                coalesce(
                    jsonb_agg(to_jsonb(team_periods) order by team_periods.agent_id, team_periods.valid_from),
                    '[]'
                )
            from team_periods
        ) as team_periods,
        (select to_jsonb(available) from available) as inputs_available,
        -- Set by agent_days once it has rebuilt these days.
        false as is_applied
)

select * from final

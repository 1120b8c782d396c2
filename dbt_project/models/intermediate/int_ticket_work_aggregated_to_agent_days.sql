-- One row per agent per local day on which the agent first answered tickets: the tickets
-- handled, and the operation errors (CRM data or routing corrections) later found in that
-- work, charged to the agent responsible on the day of the work, not of the correction.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('tickets')) }}
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
    where
        is_withheld is not true  -- its newest version was quarantined
        {%- if is_incremental() %}
            and {{ on_or_after_local_day('first_response_at', days_rebuilt_from('tickets')) }}
        {%- endif %}
),

events as (
    select * from {{ ref('stg_crm__ticket_events') }}
),

handled as (
    select
        assignee_agent_id as agent_id,
        {{ local_date('first_response_at') }} as business_date,
        count(*) as tickets_handled_count
    from tickets
    where first_response_at is not null
    group by 1, 2
),

errors as (
    select
        events.responsible_agent_id as agent_id,
        {{ local_date('tickets.first_response_at') }} as business_date,
        count(*) as operation_error_count
    from events
    inner join tickets on events.ticket_id = tickets.ticket_id
    where
        events.is_operation_error
        and events.responsible_agent_id is not null
        and tickets.first_response_at is not null
    group by 1, 2
),

final as (
    select
        coalesce(handled.agent_id, errors.agent_id) as agent_id,
        coalesce(handled.business_date, errors.business_date) as business_date,
        coalesce(handled.tickets_handled_count, 0) as tickets_handled_count,
        coalesce(errors.operation_error_count, 0) as operation_error_count
    from handled
    full outer join errors
        on handled.agent_id = errors.agent_id and handled.business_date = errors.business_date
)

select * from final

-- One row per ticket with its times in business hours: the first response time (business
-- seconds from creation to the first answer), its SLA allowance (seed ticket_sla by
-- priority, in business hours), the moment that allowance runs out (sla_business_due_at)
-- and whether it was resolved by then. The CRM's own wall-clock sla_due_at stays in
-- staging for reference; the KPI uses the center's business-time SLA, unless the CRM
-- exports its own verdict (is_sla_met): then the CRM's SLA decides, and the ticket falls
-- due when it is resolved (kpi_due_at), on time as the CRM says. A withheld ticket (its
-- newest version quarantined) counts nowhere.
-- Incremental: tickets created on the days of the rebuild window are recomputed
-- (macros/rebuild_window.sql): a changed ticket is one of them.
{{ config(**rebuilt_by_day('tickets', moment='created_at', indexed=true,
    indexes=['first_response_at', 'kpi_due_at'])) }}
with

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
    where
        is_withheld is not true
        {%- if is_incremental() %}
            and {{ on_or_after_local_day('created_at', days_rebuilt_from('tickets')) }}
        {%- endif %}
),

sla as (
    select * from {{ ref('ticket_sla') }}
),

positioned as (
    select
        tickets.ticket_id,
        tickets.assignee_agent_id,
        tickets.channel,
        tickets.priority,
        tickets.created_at,
        tickets.first_response_at,
        tickets.resolved_at,
        tickets.is_sla_met,
        {{ business_position('tickets.created_at', 'created_day') }} as created_position,
        {{ business_position('tickets.first_response_at', 'response_day') }} as response_position,
        sla.sla_business_hours * 3600 as sla_business_seconds
    from tickets
    {{ business_calendar_join('created_day', 'tickets.created_at') }}
    {{ business_calendar_join('response_day', 'tickets.first_response_at') }}
    left join sla on coalesce(tickets.priority, 'normal') = sla.priority
),

due as (
    -- The last working day that starts before the allowance runs out is the day it runs
    -- out in; the moment is that far into the day's hours.
    select
        positioned.*,
        due_day.opens_at
        + (positioned.created_position + positioned.sla_business_seconds - due_day.seconds_before)
        * interval '1 second' as sla_business_due_at
    from positioned
    left join lateral (
        select
            calendar.opens_at,
            calendar.seconds_before
        from {{ ref('int_business_calendar') }} as calendar
        where
            calendar.is_working_day
            and calendar.seconds_before < positioned.created_position + positioned.sla_business_seconds
        order by calendar.seconds_before desc
        limit 1
    ) as due_day on true
),

final as (
    select
        ticket_id,
        assignee_agent_id,
        channel,
        priority,
        created_at,
        first_response_at,
        resolved_at,
        response_position - created_position as first_response_business_seconds,
        sla_business_seconds,
        sla_business_due_at,
        case when is_sla_met is null then sla_business_due_at else resolved_at end as kpi_due_at,
        coalesce(is_sla_met, resolved_at <= sla_business_due_at, false) as is_resolved_on_time
    from due
)

select * from final

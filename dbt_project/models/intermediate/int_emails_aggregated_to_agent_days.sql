-- One row per agent per local day of first reply to e-mails: the day the agent did the work.
-- E-mail first response time is in business time: the clock stops outside working hours
-- and on holidays.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('tickets')) }}
with

tickets as (
    select * from {{ ref('int_tickets_timed_in_business_hours') }}
),

final as (
    select
        assignee_agent_id as agent_id,
        {{ local_date('first_response_at') }} as business_date,
        count(*) as email_contacts_handled,
        sum(first_response_business_seconds) as first_response_seconds_sum,
        count(*) as first_response_count
    from tickets
    where
        channel = 'email'
        and first_response_at is not null
        {%- if is_incremental() %}
            and {{ on_or_after_local_day('first_response_at', days_rebuilt_from('tickets')) }}
        {%- endif %}
    group by 1, 2
)

select * from final

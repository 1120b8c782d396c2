-- One row per agent per local business day with phone/chat work.
-- Incremental: the days of the rebuild window (macros/rebuild_window.sql) are recomputed.
{{ config(**rebuilt_by_day('contacts', indexed=true)) }}
with

contacts as (
    select * from {{ ref('int_contacts_flagged_for_fcr') }}
    {%- if is_incremental() %}
        where business_date >= {{ days_rebuilt_from('contacts') }}
    {%- endif %}
),

final as (
    select
        agent_id,
        business_date,
        count(*) filter (where channel = 'phone') as phone_contacts_handled,
        count(*) filter (where channel = 'chat') as chat_contacts_handled,
        sum(first_response_seconds) as first_response_seconds_sum,
        count(first_response_seconds) as first_response_count,
        sum(queue_seconds) as queue_wait_seconds_sum,
        count(queue_seconds) as queue_wait_count,
        sum(talk_seconds) as talk_seconds_sum,
        sum(hold_seconds) as hold_seconds_sum,
        sum(acw_seconds) as acw_seconds_sum,
        sum(handle_seconds) as handle_seconds_sum,
        count(handle_seconds) as handle_count,
        count(*) filter (where is_first_contact_resolved) as fcr_resolved_count,
        count(*) filter (where is_fcr_eligible) as fcr_eligible_count
    from contacts
    group by agent_id, business_date
)

select * from final

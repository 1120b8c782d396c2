-- One row per handled phone/chat contact, with whether it counts as resolved at first
-- contact: not transferred, not escalated, and no later contact by the same customer
-- within fcr_repeat_window_days. Only identified customers are eligible (an unidentified
-- caller cannot be seen repeating); a source without transfer or disposition data is
-- judged on repeats alone. Hold and after-call work count in the handle time where the
-- source provides them.
-- Incremental: a build recomputes the contacts from the first day a changed contact can
-- reach (macros/rebuild_window.sql); their repeat contacts are all later, so all read.
{{ config(**rebuilt_by_day('contacts', indexed=true)) }}
with

contacts as (
    select * from {{ ref('stg_call_center__contacts') }}
    {%- if is_incremental() %}
        where business_date >= {{ days_rebuilt_from('contacts') }}
    {%- endif %}
),

with_next_contact as (
    select
        *,
        count(*) over (
            partition by customer_key
            order by offered_at
            range between interval '1 microsecond' following
            and interval '{{ var("fcr_repeat_window_days") }} days' following
        ) as later_contacts_in_window
    from contacts
),

final as (
    select
        contact_id,
        agent_id,
        channel,
        business_date,
        extract(epoch from answered_at - offered_at) as first_response_seconds,
        queue_seconds,
        talk_seconds,
        hold_seconds,
        acw_seconds,
        talk_seconds + coalesce(hold_seconds, 0) + coalesce(acw_seconds, 0) as handle_seconds,
        customer_key is not null as is_fcr_eligible,
        customer_key is not null and later_contacts_in_window > 0 as has_repeat_contact,
        customer_key is not null
        and not coalesce(is_transferred, false)
        and coalesce(disposition, '') <> 'escalated'
        and later_contacts_in_window = 0 as is_first_contact_resolved
    from with_next_contact
    where not is_abandoned
)

select * from final

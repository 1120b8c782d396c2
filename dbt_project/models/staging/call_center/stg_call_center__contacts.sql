-- One row per contact (phone call or chat session). A contact delivered twice (a duplicated
-- row, or a re-delivered file for another day) keeps the row of the latest batch.
with

source as (
    select * from {{ source('call_center', 'call_center_contacts') }}
),

latest as (
    {{ latest_per_key('source', 'contact_id', 'batch_date desc, extracted_at desc, source_position::integer desc') }}
),

final as (
    select
        contact_id,
        agent_id,
        channel,
        queue_name,
        disposition,
        {{ pii_hash('customer_number') }} as customer_key,
        queue_seconds,
        talk_seconds,
        hold_seconds,
        acw_seconds,
        is_abandoned,
        is_transferred,
        quality_flags,
        {{ local_date('offered_at') }} as business_date,
        offered_at,
        answered_at,
        ended_at,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final

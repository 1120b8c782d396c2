-- One row per contact (phone call or chat session). A contact delivered twice (a duplicated
-- row, or a re-delivered file for another day) keeps the row of the latest batch.
-- Incremental: a build re-reads every version of each contact found in the batches landed
-- since the last build (or whose built row came from them) and keeps its latest; a contact
-- left with no version at all is removed (post-hook).
-- Statistics are refreshed first (post-hook), before the anti-join reads them.
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'business_date', 'contact_id', 'agent_id', 'customer_key'], 'batch_date >= ' ~ batches_rebuilt_from('call_center')) }}",
        "{{ delete_keys_without_versions(source('call_center', 'call_center_contacts'), 'call_center') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (contact_id)",
        "create index if not exists {{ this.identifier }}_business_date on {{ this }} (business_date)",
        "create index if not exists {{ this.identifier }}_agent on {{ this }} (agent_id)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('call_center', 'call_center_contacts'), 'call_center', 'contact_id') }}
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

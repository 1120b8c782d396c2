-- One row per ticket in its latest known state. Customer names are replaced by a keyed hash.
-- Incremental: a build re-reads every version of each ticket found in the batches landed
-- since the last build (or whose built row came from them) and keeps its latest.
-- Statistics are refreshed first (post-hook), before the anti-join reads them.
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'ticket_id', 'created_at', 'first_response_at'], 'batch_date >= ' ~ batches_rebuilt_from('crm')) }}",
        "{{ delete_keys_without_versions(source('crm', 'crm_tickets'), 'crm') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (ticket_id)",
        "create index if not exists {{ this.identifier }}_created_at on {{ this }} (created_at)",
        "create index if not exists {{ this.identifier }}_first_response_at on {{ this }} (first_response_at)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('crm', 'crm_tickets'), 'crm', 'ticket_id') }}
),

latest as (
    {{ latest_per_key('source', 'ticket_id', 'updated_at desc, batch_date desc, extracted_at desc') }}
),

final as (
    select
        ticket_id,
        assignee_agent_id,
        complained_agent_id,
        source_contact_id,
        channel,
        category,
        priority,
        status,
        complaint_cause,
        {{ pii_hash('customer_name') }} as customer_name_key,
        reopen_count,
        is_complaint,
        created_at,
        first_response_at,
        resolved_at,
        sla_due_at,
        updated_at,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final

-- One row per ticket in its latest known valid state (newest by update time, then the
-- CRM's version number). Customer names are replaced by a keyed hash. A ticket whose
-- newest known version was quarantined (raw.quarantine keeps its key and version) is
-- withheld (is_withheld): its older valid version is kept here but counts in no KPI
-- until a valid newer version arrives, and the audit lists it.
-- Incremental: a build re-reads every version of each ticket found in the batches landed
-- (or quarantined) since the last build, or whose built row came from them, and keeps
-- its latest.
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
    {{ versions_of_changed_keys(source('crm', 'crm_tickets'), 'crm', 'ticket_id',
        quarantined=source('landing', 'quarantine')) }}
),

latest as (
    {{ latest_per_key('source', 'ticket_id',
        'updated_at desc, version_number desc nulls last, batch_date desc, extracted_at desc') }}
),

withheld as (
    {{ withheld_keys('latest', 'ticket_id', 'crm_tickets', version_number='version_number') }}
),

final as (
    select
        latest.ticket_id,
        latest.assignee_agent_id,
        latest.complained_agent_id,
        latest.source_contact_id,
        latest.channel,
        latest.category,
        latest.priority,
        latest.status,
        latest.complaint_cause,
        {{ pii_hash('latest.customer_name') }} as customer_name_key,
        latest.reopen_count,
        latest.version_number,
        latest.is_complaint,
        latest.is_sla_met,
        withheld.ticket_id is not null as is_withheld,
        latest.created_at,
        latest.first_response_at,
        latest.resolved_at,
        latest.sla_due_at,
        latest.updated_at,
        latest.source_system,
        latest.source_object,
        latest.source_position,
        latest.batch_id,
        latest.batch_date,
        latest.content_hash
    from latest
    left join withheld on latest.ticket_id = withheld.ticket_id
)

select * from final

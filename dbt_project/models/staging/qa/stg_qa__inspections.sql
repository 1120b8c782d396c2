-- One row per QA inspection, in its latest version; business_date is the local day of
-- the inspected work, not of the inspection. An inspection whose newest known version was
-- quarantined is withheld (is_withheld), as tickets are (stg_crm__tickets): it counts in
-- no KPI until a valid newer version arrives, and the audit lists it.
-- Incremental: a build re-reads every version of each inspection found in the batches
-- landed since the last build (or whose built row came from them) and keeps its latest.
{{ config(
    materialized='incremental',
    unique_key='inspection_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'business_date', 'inspection_id'], 'batch_date >= ' ~ batches_rebuilt_from('qa')) }}",
        "{{ delete_keys_without_versions(source('qa', 'qa_inspections'), 'qa') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (inspection_id)",
        "create index if not exists {{ this.identifier }}_business_date on {{ this }} (business_date)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('qa', 'qa_inspections'), 'qa', 'inspection_id',
        quarantined=source('landing', 'quarantine')) }}
),

latest as (
    {{ latest_per_key('source', 'inspection_id', 'updated_at desc, batch_date desc, extracted_at desc') }}
),

withheld as (
    {{ withheld_keys('latest', 'inspection_id', 'qa_inspections') }}
),

final as (
    select
        latest.inspection_id,
        latest.record_id,
        latest.agent_id,
        latest.record_type,
        latest.inspector_name,
        {{ local_date('latest.record_at') }} as business_date,
        latest.record_at,
        latest.inspected_at,
        latest.updated_at,
        withheld.inspection_id is not null as is_withheld,
        latest.source_system,
        latest.source_object,
        latest.source_position,
        latest.batch_id,
        latest.batch_date,
        latest.content_hash
    from latest
    left join withheld on latest.inspection_id = withheld.inspection_id
)

select * from final

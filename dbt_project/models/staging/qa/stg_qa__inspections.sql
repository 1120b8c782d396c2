-- One row per QA inspection, in its latest version; business_date is the local day of
-- the inspected work, not of the inspection.
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
    {{ versions_of_changed_keys(source('qa', 'qa_inspections'), 'qa', 'inspection_id') }}
),

latest as (
    {{ latest_per_key('source', 'inspection_id', 'updated_at desc, batch_date desc, extracted_at desc') }}
),

final as (
    select
        inspection_id,
        record_id,
        agent_id,
        record_type,
        inspector_name,
        {{ local_date('record_at') }} as business_date,
        record_at,
        inspected_at,
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

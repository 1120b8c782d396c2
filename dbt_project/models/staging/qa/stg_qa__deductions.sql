-- One row per deduction item, from the batch that last read its inspection. The free-text
-- note can quote customers, so only whether there was one is kept.
-- Incremental, as stg_qa__inspections: the versions of the items in the changed batches.
{{ config(
    materialized='incremental',
    unique_key='deduction_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ refresh_statistics(['batch_date', 'deduction_id', 'inspection_id'], 'batch_date >= ' ~ batches_rebuilt_from('qa')) }}",
        "{{ delete_keys_without_versions(source('qa', 'qa_deductions'), 'qa') }}",
        "create index if not exists {{ this.identifier }}_batch_date on {{ this }} (batch_date)",
        "create index if not exists {{ this.identifier }}_key on {{ this }} (deduction_id)",
        "create index if not exists {{ this.identifier }}_inspection on {{ this }} (inspection_id)",
    ],
) }}

with

source as (
    {{ versions_of_changed_keys(source('qa', 'qa_deductions'), 'qa', 'deduction_id') }}
),

latest as (
    {{ latest_per_key('source', 'deduction_id', 'batch_date desc, extracted_at desc') }}
),

final as (
    select
        deduction_id,
        inspection_id,
        dimension,
        severity,
        points,
        coalesce(note, '') <> '' as has_note,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final

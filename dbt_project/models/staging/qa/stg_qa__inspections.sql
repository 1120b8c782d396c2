-- One row per QA inspection, in its latest version; business_date is the local day of
-- the inspected work, not of the inspection.
with

source as (
    select * from {{ source('qa', 'qa_inspections') }}
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

-- One row per deduction item, from the batch that last read its inspection. The free-text
-- note can quote customers, so only whether there was one is kept.
with

source as (
    select * from {{ source('qa', 'qa_deductions') }}
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

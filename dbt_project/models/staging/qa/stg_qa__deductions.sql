-- One row per deduction item, from the batch that last read its inspection. The free-text
-- note can quote customers, so only whether there was one is kept.
with

source as (
    select * from {{ source('qa', 'qa_deductions') }}
),

ranked as (
    select
        *,
        row_number() over (partition by deduction_id order by batch_date desc, extracted_at desc) as version_rank
    from source
),

final as (
    select
        deduction_id,
        inspection_id,
        dimension,
        severity,
        points,
        coalesce(note, '') <> '' as has_note,
        batch_id,
        batch_date
    from ranked
    where version_rank = 1
)

select * from final

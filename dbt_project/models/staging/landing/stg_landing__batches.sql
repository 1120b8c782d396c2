-- One row per batch: one source system for one business day, with what it read and landed.
with

manifest as (
    select * from {{ source('landing', 'batch_manifest') }}
),

final as (
    select
        batch_id,
        source_system,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        batch_date,
        min(interval_start) as interval_start,
        max(interval_end) as interval_end,
        max(extracted_at) as extracted_at
    from manifest
    group by batch_id, source_system, batch_date
)

select * from final

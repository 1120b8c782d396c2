-- One row per CRM batch: how far the ticket cursor has been read. A ticket due before
-- the watermark has a known outcome; one due later is still pending.
with

manifest as (
    select * from {{ source('crm', 'crm_batches') }}
),

final as (
    select
        batch_id,
        batch_date,
        min(interval_start) as interval_start,
        max(interval_end) as interval_end,
        sum(rows_loaded) as rows_loaded
    from manifest
    where source_system = 'crm'
    group by batch_id, batch_date
)

select * from final

-- One row: which KPI inputs the configured sources can provide. A source that has never
-- delivered a batch, or a field its vendor does not export (hold, wrap-up), makes the
-- KPIs built on it "not available" (NULL) downstream, never zero.
with

batches as (
    select * from {{ ref('stg_landing__batches') }}
),

contacts as (
    select * from {{ ref('stg_call_center__contacts') }}
),

sources as (
    select
        coalesce(bool_or(source_system = 'call_center'), false) as has_call_center,
        coalesce(bool_or(source_system = 'crm'), false) as has_crm,
        coalesce(bool_or(source_system = 'qa'), false) as has_qa,
        coalesce(bool_or(source_system = 'survey'), false) as has_survey,
        coalesce(bool_or(source_system = 'supervisor'), false) as has_supervisor
    from batches
),

-- exists() stops at the first contact with the field: not a scan of every contact.
contact_fields as (
    select
        exists(
            select from contacts
            where contacts.queue_seconds is not null
        ) as has_queue_wait,
        exists(
            select from contacts
            where contacts.hold_seconds is not null
        ) as has_hold,
        exists(
            select from contacts
            where contacts.acw_seconds is not null
        ) as has_acw
),

final as (
    select
        sources.has_call_center,
        sources.has_crm,
        sources.has_qa,
        sources.has_survey,
        sources.has_supervisor,
        contact_fields.has_queue_wait,
        contact_fields.has_hold,
        contact_fields.has_acw
    from sources
    cross join contact_fields
)

select * from final

-- One row: which KPI inputs the configured sources can provide. A source that has never
-- delivered a batch, a table it does not deliver (a CRM without ticket events), or a field
-- its vendor does not export (hold, wrap-up, a ticket's first response) makes the KPIs
-- built on it "not available" (NULL) downstream, never zero.
with

batches as (
    select * from {{ ref('stg_landing__batches') }}
),

batch_tables as (
    select * from {{ source('landing', 'batch_tables') }}
),

contacts as (
    select * from {{ ref('stg_call_center__contacts') }}
),

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
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

ticket_fields as (
    select
        exists(
            select from batch_tables
            where batch_tables.raw_table = 'crm_tickets'
        ) as has_tickets,
        exists(
            select from batch_tables
            where batch_tables.raw_table = 'crm_ticket_events'
        ) as has_ticket_events,
        exists(
            select from tickets
            where tickets.first_response_at is not null
        ) as has_first_response,
        exists(
            select from tickets
            where tickets.is_complaint is not null
        ) as has_complaints
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
        contact_fields.has_acw,
        ticket_fields.has_tickets,
        ticket_fields.has_first_response,
        ticket_fields.has_ticket_events and ticket_fields.has_first_response as has_operation_errors,
        ticket_fields.has_complaints
    from sources
    cross join contact_fields
    cross join ticket_fields
)

select * from final

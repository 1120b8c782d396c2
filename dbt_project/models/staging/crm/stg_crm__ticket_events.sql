-- One row per ticket event. Data and routing corrections are the agent's operation errors;
-- a reassignment is workload balancing, not an error.
with

source as (
    select * from {{ source('crm', 'crm_ticket_events') }}
),

latest as (
    {{ latest_per_key('source', 'event_id', 'batch_date desc, extracted_at desc') }}
),

final as (
    select
        event_id,
        ticket_id,
        event_type,
        responsible_agent_id,
        event_type in ('data_correction', 'routing_correction') as is_operation_error,
        occurred_at,
        source_system,
        source_object,
        source_position,
        batch_id,
        batch_date,
        content_hash
    from latest
)

select * from final
